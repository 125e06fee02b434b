// Keeps docs/windows-facts.md honest: what a row names must exist (files, the functions it says model the
// behaviour, test titles, probe checks, e2e steps), and an "assumed" row must say how a real server settles it.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { probeExpectations } from './support/probe-expectations.js'

const root = join(import.meta.dirname, '..')
const read = (rel: string) => readFileSync(join(root, rel), 'utf8')

interface FactRow {
  id: string
  source: string
  modelled: string
  test: string
}

/** The rows of every table: cells split on unescaped pipes, header and separator rows left out. */
function factRows(markdown: string): FactRow[] {
  return markdown
    .split('\n')
    .filter(line => line.startsWith('| ') && !line.startsWith('| id |') && !line.startsWith('| ---'))
    .map(line => {
      const cells = line
        .slice(2, -2)
        .split(/ (?<!\\)\| /)
        .map(c => c.replace(/\\\|/g, '|').trim())
      if (cells.length !== 5) throw new Error(`not 5 cells: ${line}`)
      const [id = '', , source = '', modelled = '', test = ''] = cells
      return { id, source, modelled, test }
    })
}

const isPath = (token: string) => /^[\w.-]+(\/[\w.-]+)+$/.test(token) || /^[\w-]+\.(ya?ml|json|md)$/.test(token)

/** Backticked paths and the identifiers that follow each, e.g. `file.mjs` (`fn`, `other`). */
function modelledIn(cell: string): { file: string; names: string[] }[] {
  const out: { file: string; names: string[] }[] = []
  for (const [, token = ''] of cell.matchAll(/`([^`]+)`/g)) {
    if (isPath(token)) out.push({ file: token, names: [] })
    else if (/^[A-Za-z_]\w*$/.test(token) && out.length > 0) out[out.length - 1]?.names.push(token)
  }
  return out
}

type TestRef = { kind: 'test'; file: string; title: string } | { kind: 'probe'; id: string } | { kind: 'e2e'; step: string }

function testRefs(cell: string): TestRef[] {
  return cell.split('; ').map((part): TestRef => {
    const test = /^`([^`]+)` › "(.*)"$/.exec(part)
    if (test?.[1] && test[2] !== undefined) return { kind: 'test', file: test[1], title: test[2] }
    const probe = /^probe:([\w-]+)$/.exec(part)
    if (probe?.[1]) return { kind: 'probe', id: probe[1] }
    const e2e = /^e2e:"(.+)"$/.exec(part)
    if (e2e?.[1]) return { kind: 'e2e', step: e2e[1] }
    throw new Error(`unreadable test reference: ${part}`)
  })
}

/** Whether a test file opens a call with exactly this title, as `it('title'` does (a comment's mention does not count). */
function declaresTitle(source: string, title: string): boolean {
  const unescaped = source.replace(/\\'/g, "'")
  // The title may stand on the line after `it(` once the formatter wraps a long call.
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return ["'", '"', '`'].some(q => new RegExp(`\\(\\s*${q}${escaped}${q}`).test(unescaped))
}

const rows = factRows(read('docs/windows-facts.md'))
const checks = probeExpectations()
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML is navigated freely
const e2eSteps = Object.values<any>(parse(read('.github/workflows/e2e-windows.yml')).jobs).flatMap(job =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (job.steps as any[]).map(s => String(s.name ?? ''))
)

describe('docs/windows-facts.md', () => {
  it('has rows with unique ids', () => {
    expect(rows.length).toBeGreaterThan(40)
    expect(new Set(rows.map(r => r.id)).size).toBe(rows.length)
  })

  it.each(rows.map(r => [r.id, r] as const))('%s names files and functions that exist', (_id, row) => {
    const places = modelledIn(row.modelled)
    expect(places.length, 'no file in "modelled in"').toBeGreaterThan(0)
    for (const { file, names } of places) {
      expect(existsSync(join(root, file)), file).toBe(true)
      const source = read(file)
      for (const name of names) expect(source, `${name} in ${file}`).toMatch(new RegExp(`\\b${name}\\b`))
    }
  })

  it.each(rows.map(r => [r.id, r] as const))('%s names tests, probe checks and e2e steps that exist', (_id, row) => {
    const refs = testRefs(row.test)
    expect(
      refs.some(r => r.kind === 'test' || r.kind === 'e2e'),
      'no test covers it'
    ).toBe(true)
    for (const ref of refs) {
      if (ref.kind === 'test') {
        expect(existsSync(join(root, ref.file)), ref.file).toBe(true)
        expect(declaresTitle(read(ref.file), ref.title), `"${ref.title}" in ${ref.file}`).toBe(true)
      } else if (ref.kind === 'probe') {
        expect(Object.keys(checks), `probe check ${ref.id}`).toContain(ref.id)
      } else {
        expect(e2eSteps, `e2e step ${ref.step}`).toContain(ref.step)
      }
    }
  })

  it('says for every assumed row how a real server settles it, or why it is not probed', () => {
    const unsettled = rows
      .filter(r => /assumed/.test(r.source))
      .filter(r => !testRefs(r.test).some(ref => ref.kind !== 'test') && !/not probed:/.test(r.source))
      .map(r => r.id)
    expect(unsettled).toEqual([])
  })

  it('is the fact of every probe check, and that row names the check', () => {
    for (const [id, check] of Object.entries(checks)) {
      const row = rows.find(r => r.id === check.fact)
      expect(row, `${id}: fact ${check.fact}`).toBeDefined()
      expect(row?.test, `${check.fact} does not name probe:${id}`).toContain(`probe:${id}`)
    }
  })
})

describe('the table reader', () => {
  it('splits on unescaped pipes only and reads each kind of test reference', () => {
    const [row] = factRows('| x | a `b\\|c` | assumed | `f/g.ts` (`h`) | `t/u.test.ts` › "it "quoted" works"; probe:p-1; e2e:"Step one" |')
    expect(row).toEqual({
      id: 'x',
      source: 'assumed',
      modelled: '`f/g.ts` (`h`)',
      test: '`t/u.test.ts` › "it "quoted" works"; probe:p-1; e2e:"Step one"'
    })
    expect(testRefs(row?.test ?? '')).toEqual([
      { kind: 'test', file: 't/u.test.ts', title: 'it "quoted" works' },
      { kind: 'probe', id: 'p-1' },
      { kind: 'e2e', step: 'Step one' }
    ])
    expect(modelledIn('`f/g.ts` (`h`, `i`); `action.yml` (`runs.using`)')).toEqual([
      { file: 'f/g.ts', names: ['h', 'i'] },
      { file: 'action.yml', names: [] }
    ])
  })

  it('finds a declared title and not a mere mention', () => {
    const source = "describe('x', () => {\n  it('does the thing', () => {})\n})\n// 'does another thing'\n"
    expect(declaresTitle(source, 'does the thing')).toBe(true)
    expect(declaresTitle(source, 'does another thing')).toBe(false)
  })
})
