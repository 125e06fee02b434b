import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

const SRC = path.join(import.meta.dirname, '..', '..', 'src')

/**
 * Compiles a module of src/ and the src/ modules it imports into plain ES modules under `outDir`, so a real child
 * process (plain node, no test runner) can run the code that ships. Returns the compiled entry's path.
 */
export function compileForChild(entry: string, outDir: string): string {
  const seen = new Set<string>()
  const visit = (rel: string): void => {
    if (seen.has(rel)) return
    seen.add(rel)
    const source = fs.readFileSync(path.join(SRC, rel), 'utf8')
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
    const out = path.join(outDir, rel.replace(/\.ts$/, '.js'))
    fs.mkdirSync(path.dirname(out), { recursive: true })
    fs.writeFileSync(out, js)
    // Type-only imports are gone from the output; follow the relative imports that remain.
    for (const m of js.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) visit(path.posix.join(path.posix.dirname(rel), `${m[1]}.ts`))
  }
  visit(entry)
  fs.writeFileSync(path.join(outDir, 'package.json'), '{ "type": "module" }\n')
  return path.join(outDir, entry.replace(/\.ts$/, '.js'))
}
