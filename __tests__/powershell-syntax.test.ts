// The PowerShell the repository ships runs only on Windows: scripts/*.ps1 (the server probe) and the workflow steps
// run by pwsh or powershell. A syntax error there fails the whole script or step on its first run on a server,
// before any of its checks, so it is looked for here (__tests__/support/powershell-syntax.ts).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { powershellSyntaxProblems, type SyntaxProblem } from './support/powershell-syntax.js'

const root = join(import.meta.dirname, '..')
const read = (rel: string) => readFileSync(join(root, rel), 'utf8')

interface Script {
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

const described = (problems: SyntaxProblem[]) => problems.map(p => `${p.line}:${p.column} ${p.what} | ${p.text}`)

describe('PowerShell syntax', () => {
  it('finds what PowerShell refuses to parse', async () => {
    const cases: [string, RegExp][] = [
      ['Write-Output "data-2 holds $pyc: the file"', /^1:28 \$pyc: in a double-quoted string reads as a drive; write \$\{pyc\}:/],
      ['$x = @"\nfirst line\n$name: on the third\n"@', /^3:1 \$name: in a double-quoted string/],
      ['if ($x) { "a"', /^1:\d+ missing \}/],
      ['if ($x) { 1 } else if ($y) { 2 }', /^1:\d+ not PowerShell syntax/],
      ['$a = @(1, 2', /^1:\d+ (not PowerShell syntax|missing \))/]
    ]
    for (const [text, expected] of cases) {
      const problems = described(await powershellSyntaxProblems(text))
      expect(problems, text).toHaveLength(1)
      expect(problems[0], text).toMatch(expected)
    }
  })

  it('accepts what PowerShell reads', async () => {
    const valid = [
      'Write-Output "${pyc}: linked"',
      'Write-Output "$($pyc): linked"',
      'Write-Output "$env:TEMP\\x and $script:count"',
      'Write-Output "price: `$a: none"',
      'Write-Output "$a::b"',
      "Write-Output '$pyc: literal'",
      '# "$pyc: in a comment"\n$x = 1',
      "Start-Service -Name @('WAS', 'W3SVC')"
    ]
    for (const text of valid) expect(described(await powershellSyntaxProblems(text)), text).toEqual([])
  })

  it('refuses the pipeline chain operators only where Windows PowerShell 5.1 runs the text', async () => {
    for (const text of ['git fetch && git status', 'Test-Path x || throw "no x"']) {
      expect(described(await powershellSyntaxProblems(text, '5.1')), text).toEqual([expect.stringMatching(/ needs PowerShell 7;/)])
      expect(described(await powershellSyntaxProblems(text, '7')), text).toEqual([])
    }
    // An operator inside a string, or -and / -or, is not a chain.
    for (const text of ['Write-Output "a && b"', "Write-Output 'a || b'", 'if ($a -or $b) { 1 }']) {
      expect(described(await powershellSyntaxProblems(text, '5.1')), text).toEqual([])
    }
  })

  it('scripts/*.ps1 parse', async () => {
    const scripts = ps1Scripts()
    expect(scripts.map(s => s.name)).toContain('scripts/probe-iis.ps1')
    for (const script of scripts) expect(described(await powershellSyntaxProblems(script.text, script.edition)), script.name).toEqual([])
  })

  it('every workflow step run by pwsh or powershell parses', async () => {
    const scripts = workflowScripts()
    // The Windows workflow's steps are found (pwsh by its job's default, powershell by the step's own shell).
    expect(scripts.map(s => s.name)).toEqual(
      expect.arrayContaining([
        'e2e-windows.yml › e2e › Probe IIS behaviours the tests assume',
        'e2e-windows.yml › e2e › Enable Windows Authentication and create a local account for the pool'
      ])
    )
    for (const script of scripts) expect(described(await powershellSyntaxProblems(script.text, script.edition)), script.name).toEqual([])
  })
})
