// Variables a PowerShell text reads and never assigns: a misspelt name reads as $null, or stops a script under
// Set-StrictMode (docs/windows-facts.md, ps-unassigned-variable). Loose on purpose: a name assigned anywhere in the
// text counts for the whole text, so it finds misspellings, not reads before a write. Not understood, so not used in
// the scripts here: class properties, and variables a script block receives from its caller's scope.
import type { Node } from 'web-tree-sitter'
import { positionOf, powershellTree } from './powershell-parser.js'

/**
 * Microsoft Learn, about_Automatic_Variables and about_Preference_Variables: PowerShell sets these itself, some only
 * in a context ($_ in a pipeline, $Matches after -match). $OFS is documented but not set until a script sets it.
 */
const POWERSHELL_SETS = new Set(
  [
    '$',
    '?',
    '^',
    '_',
    'args',
    'ConsoleFileName',
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
    'OutputEncoding',
    'ProgressPreference',
    'PSDefaultParameterValues',
    'PSEmailServer',
    'VerbosePreference',
    'WarningPreference',
    'WhatIfPreference'
  ].map(name => name.toLowerCase())
)

/** PowerShell 7 only (about_Automatic_Variables, about_Preference_Variables): unset, so an error, in 5.1. */
const POWERSHELL_7_SETS = new Set(
  [
    'EnabledExperimentalFeatures',
    'IsCoreCLR',
    'IsLinux',
    'IsMacOS',
    'IsWindows',
    'PSNativeCommandArgumentPassing',
    'PSNativeCommandUseErrorActionPreference',
    'PSStyle'
  ].map(name => name.toLowerCase())
)

/** Common parameters that name a variable for the cmdlet to set (about_CommonParameters), and -Name of these two. */
const NAMES_A_VARIABLE = /^-(ErrorVariable|OutVariable|PipelineVariable|WarningVariable|InformationVariable)$/i
const SETS_A_VARIABLE = /^(Set|New)-Variable$/i

/** Scopes that name the same variable; any other prefix (env:, variable:, using:...) is not a script variable. */
const SCOPES = /^(script|global|local|private):/i

/** The variable's name without `$`/`@`, braces and scope, lower-cased; undefined for a drive (`$env:PATH`). */
function nameOf(node: Node): string | undefined {
  // The grammar may start a variable of a here-string at the line break before it.
  const name = node.text
    .trimStart()
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

/** Every name `root` assigns a value to, by the forms the scripts here use. */
function assignedNames(root: Node, text: string): Set<string> {
  const assigned = new Set<string>()
  const bind = (node: Node | null | undefined) => {
    const name = node && nameOf(node)
    if (name) assigned.add(name)
  }
  const bindName = (word: string) =>
    assigned.add(
      word
        .replace(/^['"+]+|['"]+$/g, '')
        .replace(SCOPES, '')
        .toLowerCase()
    )
  const present = (nodes: (Node | null)[]) => nodes.filter((n): n is Node => n !== null)

  for (const left of present(root.descendantsOfType('left_assignment_expression'))) {
    for (const v of present(left.descendantsOfType('variable'))) bind(v)
  }
  // Parameters of scripts, functions and script blocks: the parameter's own variable, not one in its attributes
  // (`[Parameter(Mandatory = $true)]`).
  for (const parameter of present(root.descendantsOfType('script_parameter'))) {
    bind(parameter.namedChildren.find(c => c?.type === 'variable'))
  }
  // foreach ($item in ...): the first variable.
  for (const loop of present(root.descendantsOfType('foreach_statement'))) bind(loop.descendantsOfType('variable')[0])
  // [ref]$x passes $x to be written, as [int]::TryParse does.
  for (const v of present(root.descendantsOfType('variable'))) {
    if (/\[ref\]\s*$/i.test(text.slice(Math.max(0, v.startIndex - 12), v.startIndex))) bind(v)
  }
  // -ErrorVariable err, -OutVariable +outs...
  for (const parameter of present(root.descendantsOfType('command_parameter'))) {
    if (!NAMES_A_VARIABLE.test(parameter.text.replace(/:$/, ''))) continue
    const next = parameter.nextNamedSibling
    const value = next?.type === 'command_argument_sep' ? next.nextNamedSibling : next
    if (value) bindName(value.text)
  }
  // Set-Variable -Name x, New-Variable x.
  for (const command of present(root.descendantsOfType('command'))) {
    if (!SETS_A_VARIABLE.test(command.namedChildren.find(c => c?.type === 'command_name')?.text ?? '')) continue
    const elements = command.namedChildren.find(c => c?.type === 'command_elements')?.namedChildren ?? []
    const argv = present(elements).filter(e => e.type !== 'command_argument_sep')
    const flag = argv.findIndex(e => /^-Name:?$/i.test(e.text))
    const value = flag >= 0 ? argv[flag + 1] : argv.find(e => e.type !== 'command_parameter')
    if (value) bindName(value.text)
  }
  return assigned
}

/**
 * Each variable `text` reads that nothing in it assigns (first read of each), in the order of the text, for the
 * `edition` of PowerShell that runs it.
 */
export async function unassignedVariables(text: string, edition: '5.1' | '7' = '5.1'): Promise<UnassignedRead[]> {
  const tree = await powershellTree(text)
  const assigned = assignedNames(tree.rootNode, text)
  const reads: UnassignedRead[] = []
  const reported = new Set<string>()
  for (const v of tree.rootNode.descendantsOfType('variable')) {
    const name = v && nameOf(v)
    if (!v || !name || assigned.has(name) || POWERSHELL_SETS.has(name) || reported.has(name)) continue
    if (edition === '7' && POWERSHELL_7_SETS.has(name)) continue
    reported.add(name)
    reads.push({ name: v.text.trimStart(), line: positionOf(text, v.startIndex + v.text.length - v.text.trimStart().length).row + 1 })
  }
  tree.delete()
  return reads
}
