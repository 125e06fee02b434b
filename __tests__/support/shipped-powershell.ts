// The PowerShell the repository ships, which runs only on Windows: scripts/*.ps1 (the server probe) and each
// step of a shipped workflow that PowerShell runs, with the edition that runs it.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { workflowFiles } from './workflow-files.js'

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

/**
 * The edition of PowerShell that runs a step, or undefined for another shell. A step's shell is its own, else its
 * job's default, else its workflow's. Without one, the runner uses bash or sh on Linux and macOS, and on Windows pwsh when
 * it is on PATH, else Windows PowerShell 5.1 (docs/windows-facts.md, rn-default-shell): the stricter 5.1 is
 * checked, for any runner not named as Linux or macOS (a label given by an expression may be Windows).
 */
function editionOf(step: Step, job: Job, workflow: Workflow): Script['edition'] | undefined {
  const named = step.shell ?? job.defaults?.run?.shell ?? workflow.defaults?.run?.shell
  if (named) return /^pwsh\b/.test(named) ? '7' : /^powershell\b/.test(named) ? '5.1' : undefined
  return /ubuntu|macos|linux/i.test(JSON.stringify(job['runs-on'] ?? '')) ? undefined : '5.1'
}

/** The PowerShell steps of one workflow file, named `<file> › <job> › <step>`. */
export function workflowScripts(file: string, yaml: string): Script[] {
  const workflow = parse(yaml) as Workflow
  return Object.entries(workflow.jobs ?? {}).flatMap(([jobId, job]) =>
    (job.steps ?? []).flatMap(step => {
      const edition = editionOf(step, job, workflow)
      if (typeof step.run !== 'string' || !edition) return []
      const name = `${file} › ${jobId} › ${step.name ?? step.run.split('\n')[0]}`
      return [{ name, text: withoutExpressions(step.run), edition }]
    })
  )
}

const ps1Scripts = (): Script[] =>
  readdirSync(join(root, 'scripts'))
    .filter(f => f.endsWith('.ps1'))
    // Users run them in Windows PowerShell 5.1 or PowerShell 7 (docs/windows-facts.md, "Settling the assumed rows").
    .map(f => ({ name: `scripts/${f}`, text: read(join('scripts', f)), edition: '5.1' as const }))

/** The probe first, then the steps of every shipped workflow in file order. */
export const shippedPowerShell = (): Script[] => [...ps1Scripts(), ...workflowFiles().flatMap(rel => workflowScripts(rel, read(rel)))]
