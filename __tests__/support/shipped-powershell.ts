// The PowerShell the repository ships, which runs only on Windows: scripts/*.ps1 (the server probe) and each
// workflow step run by pwsh or powershell, with the edition of PowerShell that runs it.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

const root = join(import.meta.dirname, '..', '..')
const read = (rel: string) => readFileSync(join(root, rel), 'utf8')

export interface Script {
  name: string
  text: string
  edition: '5.1' | '7'
}

/** The parts of a workflow file that decide which shell runs a step. */
interface Defaults {
  defaults?: { run?: { shell?: string } }
}
interface Step {
  name?: string
  run?: unknown
  shell?: string
}
interface Job extends Defaults {
  'runs-on'?: unknown
  steps?: Step[]
}
interface Workflow extends Defaults {
  jobs?: Record<string, Job>
}

// GitHub replaces each `${{ }}` expression with its value before the shell reads the script: a bare word stands in.
const withoutExpressions = (run: string) => run.replace(/\$\{\{[\s\S]*?\}\}/g, 'EXPRESSION')

/** A step's shell: its own, its job's default, the workflow's default, else GitHub's default for the runner. */
function shellOf(step: Step, job: Job, workflow: Workflow): string {
  const named = step.shell ?? job.defaults?.run?.shell ?? workflow.defaults?.run?.shell
  if (named) return String(named)
  // GitHub runs a step without a shell in pwsh on Windows and in bash elsewhere; a runner label given by an
  // expression may be Windows (deploy.yml's self-hosted servers).
  return /ubuntu|macos|linux/i.test(JSON.stringify(job['runs-on'] ?? '')) ? 'bash' : 'pwsh'
}

function workflowScripts(): Script[] {
  const scripts: Script[] = []
  for (const file of readdirSync(join(root, '.github', 'workflows'))
    .filter(f => /\.ya?ml$/.test(f))
    .sort()) {
    const workflow = parse(read(join('.github', 'workflows', file))) as Workflow
    for (const [jobId, job] of Object.entries(workflow.jobs ?? {})) {
      for (const step of job.steps ?? []) {
        const shell = shellOf(step, job, workflow)
        if (typeof step.run !== 'string' || !/^(pwsh|powershell)\b/.test(shell)) continue
        scripts.push({
          name: `${file} › ${jobId} › ${step.name ?? step.run.split('\n')[0]}`,
          text: withoutExpressions(step.run),
          edition: shell.startsWith('pwsh') ? '7' : '5.1'
        })
      }
    }
  }
  return scripts
}

const ps1Scripts = (): Script[] =>
  readdirSync(join(root, 'scripts'))
    .filter(f => f.endsWith('.ps1'))
    // Users run them in Windows PowerShell 5.1 or PowerShell 7 (docs/windows-facts.md, "Settling the assumed rows").
    .map(f => ({ name: `scripts/${f}`, text: read(join('scripts', f)), edition: '5.1' as const }))

/** The probe first, then the workflows' steps in file order. */
export const shippedPowerShell = (): Script[] => [...ps1Scripts(), ...workflowScripts()]
