// Finds syntax errors in PowerShell text without PowerShell, which does not run here: the structure through the
// tree-sitter-powershell grammar, the one error of PowerShell's own tokenizer that the grammar accepts (a variable
// name ending in `:` inside a double-quoted string, docs/windows-facts.md, ps-drive-variable), and for Windows
// PowerShell 5.1 the pipeline chain operators it does not have (ps-chain-operators). The grammar also refuses
// PowerShell 7's `?:`, `??` and `?.`, which the scripts here avoid, since they must run in 5.1 too.
import type { Node } from 'web-tree-sitter'
import { powershellTree } from './powershell-parser.js'

export interface SyntaxProblem {
  /** 1-based line and column in the text given. */
  line: number
  column: number
  what: string
  /** The line, trimmed. */
  text: string
}

/**
 * `$name:` followed by a character that can neither continue a name nor make `::`: PowerShell reads the name as
 * drive-qualified with nothing after the drive, and the whole script fails to parse. A backtick escapes the `$`.
 */
const DRIVE_VARIABLE = /(?<!`)\$[\p{L}\p{Nd}_?]+:(?![\p{L}\p{Nd}_?:])/gu

const EXPANDABLE = new Set(['expandable_string_literal', 'expandable_here_string_literal'])

/** Every problem in `text`, in the order of the text; empty when it parses in `edition` of PowerShell. */
export async function powershellSyntaxProblems(text: string, edition: '5.1' | '7' = '5.1'): Promise<SyntaxProblem[]> {
  const tree = await powershellTree(text)
  const lines = text.split('\n')
  const problems: SyntaxProblem[] = []
  const at = (row: number, column: number, what: string) =>
    problems.push({ line: row + 1, column: column + 1, what, text: (lines[row] ?? '').trim() })

  // Errors only below nodes that hold one; strings wherever they are.
  const visit = (node: Node): void => {
    if (node.isError) return void at(node.startPosition.row, node.startPosition.column, 'not PowerShell syntax')
    if (node.isMissing) return void at(node.startPosition.row, node.startPosition.column, `missing ${node.type}`)
    for (const child of node.children) if (child?.hasError || child?.isMissing) visit(child)
  }
  visit(tree.rootNode)
  for (const node of tree.rootNode.descendantsOfType([...EXPANDABLE])) {
    if (!node) continue
    for (const match of node.text.matchAll(DRIVE_VARIABLE)) {
      const before = node.text.slice(0, match.index).split('\n')
      const row = node.startPosition.row + before.length - 1
      const column = (before.length === 1 ? node.startPosition.column : 0) + (before.at(-1)?.length ?? 0)
      at(row, column, `${match[0]} in a double-quoted string reads as a drive; write \${${match[0].slice(1, -1)}}:`)
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
