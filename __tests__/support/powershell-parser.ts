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
