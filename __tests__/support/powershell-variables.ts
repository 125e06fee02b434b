// Variables a PowerShell text reads and never assigns: a misspelt name reads as $null, or stops a script under
// Set-StrictMode (docs/windows-facts.md, ps-unassigned-variable). Loose on purpose: a name assigned anywhere in the
// text counts for the whole text, so it finds misspellings, not reads before a write.
import type { Node } from 'web-tree-sitter'
import { powershellTree } from './powershell-parser.js'

/** Microsoft Learn, about_Automatic_Variables and about_Preference_Variables: PowerShell sets these itself. */
const POWERSHELL_SETS = new Set(
  [
    '$',
    '?',
    '^',
    '_',
    'args',
    'ConsoleFileName',
    'EnabledExperimentalFeatures',
    'Error',
    'Event',
    'EventArgs',
    'EventSubscriber',
    'ExecutionContext',
    'false',
    'foreach',
    'HOME',
    'Host',
    'input',
    'IsCoreCLR',
    'IsLinux',
    'IsMacOS',
    'IsWindows',
    'LASTEXITCODE',
    'Matches',
    'MyInvocation',
    'NestedPromptLevel',
    'null',
    'PID',
    'PROFILE',
    'PSBoundParameters',
    'PSCmdlet',
    'PSCommandPath',
    'PSCulture',
    'PSDebugContext',
    'PSEdition',
    'PSHOME',
    'PSItem',
    'PSScriptRoot',
    'PSSenderInfo',
    'PSUICulture',
    'PSVersionTable',
    'PWD',
    'Sender',
    'ShellId',
    'StackTrace',
    'switch',
    'this',
    'true',
    'ConfirmPreference',
    'DebugPreference',
    'ErrorActionPreference',
    'ErrorView',
    'FormatEnumerationLimit',
    'InformationPreference',
    'MaximumHistoryCount',
    'OFS',
    'OutputEncoding',
    'ProgressPreference',
    'PSDefaultParameterValues',
    'PSEmailServer',
    'PSModuleAutoLoadingPreference',
    'PSNativeCommandArgumentPassing',
    'PSNativeCommandUseErrorActionPreference',
    'PSStyle',
    'VerbosePreference',
    'WarningPreference',
    'WhatIfPreference'
  ].map(name => name.toLowerCase())
)

/** Scopes that name the same variable; any other prefix (env:, variable:, using:...) is not a script variable. */
const SCOPES = /^(script|global|local|private):/i

/** The variable's name without `$`/`@`, braces and scope, lower-cased; undefined for a drive (`$env:PATH`). */
function nameOf(node: Node): string | undefined {
  const name = node.text
    .replace(/^[$@]/, '')
    .replace(/^\{(.*)\}$/s, '$1')
    .replace(SCOPES, '')
  return name.includes(':') ? undefined : name.toLowerCase()
}

export interface UnassignedRead {
  name: string
  /** 1-based. */
  line: number
}

/** Each variable `text` reads that nothing in it assigns (first read of each), in the order of the text. */
export async function unassignedVariables(text: string): Promise<UnassignedRead[]> {
  const tree = await powershellTree(text)
  const assigned = new Set<string>()
  const bind = (node: Node | null) => {
    const name = node && nameOf(node)
    if (name) assigned.add(name)
  }
  const root = tree.rootNode
  for (const left of root.descendantsOfType('left_assignment_expression'))
    for (const v of left?.descendantsOfType('variable') ?? []) bind(v)
  // Parameters of scripts, functions and script blocks.
  for (const parameter of root.descendantsOfType('script_parameter')) bind(parameter?.descendantsOfType('variable')[0] ?? null)
  // foreach ($item in ...): the first variable.
  for (const loop of root.descendantsOfType('foreach_statement')) bind(loop?.descendantsOfType('variable')[0] ?? null)
  const variables = root.descendantsOfType('variable').filter((v): v is Node => v !== null)
  // [ref]$x passes $x to be written, as [int]::TryParse does.
  for (const v of variables) if (/\[ref\]\s*$/i.test(text.slice(Math.max(0, v.startIndex - 12), v.startIndex))) bind(v)

  const reads: UnassignedRead[] = []
  const reported = new Set<string>()
  for (const v of variables) {
    const name = nameOf(v)
    if (!name || assigned.has(name) || POWERSHELL_SETS.has(name) || reported.has(name)) continue
    reported.add(name)
    reads.push({ name: v.text, line: v.startPosition.row + 1 })
  }
  tree.delete()
  return reads
}
