// Finds syntax errors in PowerShell text without PowerShell, which does not run here: the structure through the
// tree-sitter-powershell grammar; the error PowerShell's tokenizer makes of a variable name followed by `:`, which
// the grammar accepts (docs/windows-facts.md, ps-drive-variable); and for Windows PowerShell 5.1 the pipeline chain
// operators it does not have (ps-chain-operators).
// The grammar also refuses some valid PowerShell, which the scripts here therefore avoid: a bare-word list as a
// command argument (`Start-Service WAS, W3SVC`: write `@('WAS', 'W3SVC')`), a param block followed by a statement on
// the same line, and PowerShell 7's `?:`, `??` and `?.` (the scripts must run in 5.1 too).
import type { Node } from 'web-tree-sitter'
import { positionOf, powershellTree } from './powershell-parser.js'

export interface SyntaxProblem {
  /** 1-based line and column in the text given. */
  line: number
  column: number
  what: string
  /** The line, trimmed. */
  text: string
}

const EXPANDABLE = ['expandable_string_literal', 'expandable_here_string_literal']

/**
 * `$:` in a string: `:` may start a name, so this is a drive with no name (CharTraits.cs). Only the string's own
 * text is searched, not its `$(...)` parts, which the grammar parses as code.
 */
const EMPTY_DRIVE = /(?<!`)\$:(?!:)/g

/** Every problem in `text`, in the order of the text; empty when it parses in `edition` of PowerShell. */
export async function powershellSyntaxProblems(text: string, edition: '5.1' | '7' = '5.1'): Promise<SyntaxProblem[]> {
  const tree = await powershellTree(text)
  const lines = text.split('\n')
  const problems: SyntaxProblem[] = []
  const at = (row: number, column: number, what: string) =>
    problems.push({ line: row + 1, column: column + 1, what, text: (lines[row] ?? '').trim() })

  // Only subtrees that hold an error are walked: the probe's tree has tens of thousands of nodes.
  const visit = (node: Node): void => {
    if (node.isError) return void at(node.startPosition.row, node.startPosition.column, 'not PowerShell syntax')
    if (node.isMissing) return void at(node.startPosition.row, node.startPosition.column, `missing ${JSON.stringify(node.type)}`)
    for (const child of node.children) if (child?.hasError || child?.isMissing) visit(child)
  }
  visit(tree.rootNode)

  // PowerShell reads every `:` after a variable's name as part of it unless another `:` follows (`$a::b`), and a
  // drive or scope with nothing after it is an error; `$?`, `$$`, `$^` and `${...}` end where they are written.
  for (const variable of tree.rootNode.descendantsOfType('variable')) {
    // The grammar may start a variable of a here-string at the line break before it.
    const name = variable?.text.trimStart().replace(/:$/, '') ?? ''
    if (!variable || /^[$@](\{|[?$^]$)/.test(name)) continue
    const after = text.slice(variable.endIndex, variable.endIndex + 2)
    if (variable.text.endsWith(':') || (after[0] === ':' && after[1] !== ':')) {
      const { row, column } = positionOf(text, variable.endIndex - (variable.text.endsWith(':') ? 1 : 0) - name.length)
      at(row, column, `${name}: reads as a drive with no name; write \${${name.slice(1)}}:`)
    }
  }
  for (const string of tree.rootNode.descendantsOfType(EXPANDABLE)) {
    if (!string) continue
    let own = string.text
    for (const part of string.namedChildren) {
      if (part?.type !== 'sub_expression') continue
      const from = part.startIndex - string.startIndex
      own = own.slice(0, from) + ' '.repeat(part.endIndex - part.startIndex) + own.slice(from + part.endIndex - part.startIndex)
    }
    for (const match of own.matchAll(EMPTY_DRIVE)) {
      const { row, column } = positionOf(text, string.startIndex + match.index)
      at(row, column, '$: reads as a drive with no name; write `$:')
    }
  }

  if (edition === '5.1') {
    for (const node of tree.rootNode.descendantsOfType(['&&', '||'])) {
      if (node) at(node.startPosition.row, node.startPosition.column, `${node.type} needs PowerShell 7; write if ($?) { ... }`)
    }
  }
  tree.delete()
  return problems.sort((a, b) => a.line - b.line || a.column - b.column)
}
