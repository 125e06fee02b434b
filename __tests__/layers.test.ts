import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

// The layers of docs/architecture.md: a lower layer never imports a higher one, read off the import lines.
const SRC = path.resolve(import.meta.dirname, '../src')

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    return entry.name.endsWith('.ts') ? [full] : []
  })
}

/** The src/ files a source file imports (static, type-only, re-exports and dynamic), as paths relative to src/. */
function importsOf(text: string, file: string): string[] {
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map(m => m[1] ?? '')
  return specs.map(spec =>
    path
      .relative(SRC, path.resolve(path.dirname(file), spec))
      .split(path.sep)
      .join('/')
      .replace(/\.js$/, '.ts')
  )
}

const GRAPH = new Map(
  sourceFiles(SRC).map(file => [path.relative(SRC, file).split(path.sep).join('/'), importsOf(fs.readFileSync(file, 'utf8'), file)])
)

const matches = (file: string, patterns: readonly string[]): boolean =>
  patterns.some(p => (p.endsWith('/') ? file.startsWith(p) : file === p))

interface Rule {
  layer: string
  files: readonly string[]
  mayNotImport: readonly string[]
  except?: readonly string[]
}

const FLOW = ['flow/', 'main.ts', 'index.ts']
const RULES: Rule[] = [
  { layer: 'anything', files: [''], except: ['index.ts'], mayNotImport: ['main.ts', 'index.ts'] },
  { layer: 'below the run flow', files: [''], except: FLOW, mayNotImport: ['flow/'] },
  {
    layer: 'inputs',
    files: ['inputs/', 'config.ts'],
    mayNotImport: ['iis/', 'plan/', 'stage.ts', 'verify/', 'shibboleth/', 'render/', 'report.ts', 'history/']
  },
  {
    layer: 'python',
    files: ['python/', 'migrations/', 'shared/'],
    mayNotImport: ['iis/', 'plan/', 'stage.ts', 'shibboleth/', 'report.ts', 'history/', 'doctor/']
  },
  {
    layer: 'plan',
    files: ['plan/'],
    mayNotImport: ['iis/apply.ts', 'iis/rollback.ts', 'iis/undo.ts', 'iis/lock.ts', 'stage.ts', 'verify/', 'history/', 'doctor/']
  },
  { layer: 'iis', files: ['iis/'], mayNotImport: ['stage.ts', 'verify/', 'report.ts', 'history/', 'doctor/'] },
  {
    layer: 'verify',
    files: ['verify/'],
    mayNotImport: ['iis/apply.ts', 'iis/rollback.ts', 'iis/undo.ts', 'plan/build.ts', 'stage.ts', 'history/', 'doctor/']
  },
  {
    layer: 'report',
    files: ['report.ts', 'history/', 'diagnose.ts'],
    mayNotImport: ['iis/apply.ts', 'stage.ts', 'plan/build.ts', 'shibboleth/apply.ts']
  }
]

function violations(rule: Rule, graph: Map<string, string[]>): string[] {
  const found: string[] = []
  for (const [file, imports] of graph) {
    if (!rule.files.some(p => (p === '' ? true : matches(file, [p])))) continue
    if (rule.except && matches(file, rule.except)) continue
    for (const imported of imports) if (matches(imported, rule.mayNotImport)) found.push(`${file} imports ${imported}`)
  }
  return found
}

describe('layers', () => {
  it('reads every kind of relative import line', () => {
    const file = path.join(SRC, 'plan/x.ts')
    const text = [
      "import { a } from '../iis/apply.js'",
      "import type { B } from './types.js'",
      "export { c } from '../main.js'",
      "const d = await import('../stage.js')",
      "import fs from 'node:fs'"
    ].join('\n')
    expect(importsOf(text, file)).toEqual(['iis/apply.ts', 'plan/types.ts', 'main.ts', 'stage.ts'])
  })

  it('finds a lower layer importing a higher one', () => {
    const graph = new Map([['plan/build.ts', ['iis/apply.ts', 'plan/types.ts']]])
    const planRule = RULES.find(r => r.layer === 'plan')
    expect(planRule && violations(planRule, graph)).toEqual(['plan/build.ts imports iis/apply.ts'])
  })

  it('holds for every file in src/', () => {
    expect(GRAPH.size).toBeGreaterThan(50)
    for (const rule of RULES) expect(violations(rule, GRAPH), `${rule.layer} imports a higher layer`).toEqual([])
  })
})
