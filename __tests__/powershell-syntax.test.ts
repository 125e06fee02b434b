// The PowerShell the repository ships runs only on Windows: scripts/*.ps1 (the server probe) and the workflow steps
// run by pwsh or powershell. A syntax error there fails the whole script or step on its first run on a server,
// before any of its checks, so it is looked for here (__tests__/support/powershell-syntax.ts).
import { describe, expect, it } from 'vitest'
import { powershellSyntaxProblems, type SyntaxProblem } from './support/powershell-syntax.js'
import { shippedPowerShell, workflowScripts } from './support/shipped-powershell.js'

const described = (problems: SyntaxProblem[]) => problems.map(p => `${p.line}:${p.column} ${p.what} | ${p.text}`)

describe('PowerShell syntax', () => {
  it('finds what PowerShell refuses to parse', async () => {
    const cases: [string, RegExp][] = [
      ['Write-Output "data-2 holds $pyc: the file"', /^1:28 \$pyc: reads as a drive with no name; write \$\{pyc\}:/],
      ['$x = @"\nfirst line\n$name: on the third\n"@', /^3:1 \$name: reads as a drive/],
      // Outside a string, after a drive, after a scope, and $_ (a name like any other here).
      ['Write-Output $pyc: linked', /^1:14 \$pyc: reads as a drive/],
      ['Write-Output "$env:COMPUTERNAME: ready"', /^1:15 \$env:COMPUTERNAME: reads as a drive/],
      ['Write-Output "$script:count: done"', /^1:15 \$script:count: reads as a drive/],
      ['$items | ForEach-Object { "$_: item" }', /^1:28 \$_: reads as a drive/],
      ['Write-Output "$h:$m"', /^1:15 \$h: reads as a drive/],
      ['Write-Output "US$: 5"', /^1:17 \$: reads as a drive/],
      ['if ($x) { "a"', /^1:\d+ missing "\}"/],
      ['if ($x) { 1 } else if ($y) { 2 }', /^1:\d+ not PowerShell syntax/],
      ['$a = @(1, 2', /^1:\d+ (not PowerShell syntax|missing "\)")/]
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
      '[int]::MaxValue; $a::b',
      'Write-Output "$a:b is drive a, name b"',
      'Write-Output "$?: the last command\'s status"',
      'Get-Item -Path:$target',
      "Write-Output '$pyc: literal'",
      'Write-Output "$(Write-Output \'$pyc: literal in a subexpression\')"',
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
    const scripts = shippedPowerShell().filter(s => s.name.startsWith('scripts/'))
    expect(scripts.map(s => s.name)).toContain('scripts/probe-iis.ps1')
    for (const script of scripts) expect(described(await powershellSyntaxProblems(script.text, script.edition)), script.name).toEqual([])
  })

  it('takes the edition that runs a step from its shell, as the runner chooses one', () => {
    const yaml = [
      'defaults: { run: { shell: pwsh } }',
      'jobs:',
      '  server:',
      '    runs-on: [self-hosted, windows]',
      '    defaults: { run: { shell: powershell } }',
      '    steps:',
      '      - { name: job default, run: a }',
      '      - { name: own pwsh, shell: pwsh, run: b }',
      '      - { name: own cmd, shell: cmd, run: c }',
      '  workflow-default:',
      '    runs-on: windows-latest',
      '    steps: [{ name: workflow default, run: d }]',
      'other: {}'
    ].join('\n')
    const editions = (text: string) => workflowScripts('w.yml', text).map(s => `${s.name} (${s.edition})`)
    expect(editions(yaml)).toEqual([
      'w.yml › server › job default (5.1)',
      'w.yml › server › own pwsh (7)',
      'w.yml › workflow-default › workflow default (7)'
    ])
    // No shell anywhere: bash or sh on Linux and macOS; on Windows pwsh, or 5.1 where pwsh is not installed, so 5.1.
    const unnamed = (runsOn: string) => editions(`jobs:\n  j:\n    runs-on: ${runsOn}\n    steps: [{ name: s, run: x }]`)
    expect(unnamed('ubuntu-latest')).toEqual([])
    expect(unnamed('macos-latest')).toEqual([])
    expect(unnamed('[self-hosted, windows, iis]')).toEqual(['w.yml › j › s (5.1)'])
    expect(unnamed('${{ fromJSON(inputs.runner-labels) }}')).toEqual(['w.yml › j › s (5.1)'])
  })

  it('every workflow step run by pwsh or powershell parses', async () => {
    const scripts = shippedPowerShell().filter(s => !s.name.startsWith('scripts/'))
    // The Windows workflow's steps are found, each with the edition that runs it: pwsh by its job's default,
    // Windows PowerShell 5.1 by the step's own shell.
    expect(scripts.map(s => `${s.name} (${s.edition})`)).toEqual(
      expect.arrayContaining([
        '.github/workflows/e2e-windows.yml › e2e › Probe IIS behaviours the tests assume (5.1)',
        '.github/workflows/e2e-windows.yml › e2e › Enable Windows Authentication and create a local account for the pool (5.1)',
        '.github/workflows/e2e-windows.yml › e2e › Collect applicationHost.config, web.config files and logs (7)'
      ])
    )
    for (const script of scripts) expect(described(await powershellSyntaxProblems(script.text, script.edition)), script.name).toEqual([])
  })
})
