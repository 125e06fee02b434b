// docs/architecture.md's "The flow of each mode" table names each mode's steps in the order src/flow/modes.ts
// runs them: a step added, removed, renamed or moved without the table fails here.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FLOWS } from '../src/flow/modes.js'

const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'architecture.md'), 'utf8')

/** The table's rows as mode → step names; a parenthesised remark after a step is not part of its name. */
function documentedFlows(text: string): Map<string, string[]> {
  const section = text.slice(text.indexOf('## The flow of each mode'))
  const rows = [...section.matchAll(/^\| `([a-z]+)` \| (.+) \|$/gm)]
  return new Map(rows.map(([, mode = '', steps = '']) => [mode, steps.replace(/\s*\([^)]*\)/g, '').split(', ')]))
}

describe('docs/architecture.md', () => {
  const documented = documentedFlows(doc)

  it('has a row for every mode and no other', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(FLOWS).sort())
  })

  it.each(Object.entries(FLOWS))('names the steps of %s in the order they run', (mode, steps) => {
    expect(documented.get(mode)).toEqual(steps.map(s => s.name))
  })

  it('notices a step missing from a row', () => {
    const dropped = doc.replace('Lock applicationHost.config, ', '')
    expect(documentedFlows(dropped).get('deploy')).not.toEqual(FLOWS.deploy.map(s => s.name))
  })
})
