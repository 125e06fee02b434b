// The tree-sitter-powershell grammar through web-tree-sitter (its WebAssembly build: nothing is compiled on
// install), loaded once for the static checks of the PowerShell the repository ships.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Language, Parser, type Tree } from 'web-tree-sitter'

let parser: Parser | undefined

/** The syntax tree of `text`; the caller deletes it. */
export async function powershellTree(text: string): Promise<Tree> {
  if (!parser) {
    await Parser.init()
    const wasm = createRequire(import.meta.url).resolve('tree-sitter-powershell/tree-sitter-powershell.wasm')
    const language = await Language.load(readFileSync(wasm))
    parser = new Parser()
    parser.setLanguage(language)
  }
  const tree = parser.parse(text)
  if (!tree) throw new Error('tree-sitter returned no tree')
  return tree
}

/** 0-based row and column of a character index of `text` (UTF-16 units, as tree-sitter's indexes in JavaScript are). */
export function positionOf(text: string, index: number): { row: number; column: number } {
  const before = text.slice(0, index)
  const lineStart = before.lastIndexOf('\n') + 1
  return { row: before.split('\n').length - 1, column: index - lineStart }
}
