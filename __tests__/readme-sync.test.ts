import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { inputsTable, outputsTable, readmeFiles, renderReadme } from '../scripts/readme-inputs.mjs'

const root = join(import.meta.dirname, '..')
const between = (text: string, marker: string): string =>
  text.slice(text.indexOf(`<!-- ${marker}:start -->`), text.indexOf(`<!-- ${marker}:end -->`))

describe('README inputs and outputs tables', () => {
  const { readme, actionYaml } = readmeFiles(root)
  const action = parse(actionYaml) as { inputs: Record<string, unknown>; outputs: Record<string, unknown> }

  it('match a fresh generation from action.yml (run `npm run docs` to update)', () => {
    expect(readme).toBe(renderReadme(readme, actionYaml))
  })

  it('list every input and output of action.yml', () => {
    for (const name of Object.keys(action.inputs)) expect(between(readme, 'inputs')).toContain(`| \`${name}\` |`)
    for (const name of Object.keys(action.outputs)) expect(between(readme, 'outputs')).toContain(`| \`${name}\` |`)
  })

  it('notice an input added to action.yml', () => {
    const changed = actionYaml.replace(/^inputs:\n/m, 'inputs:\n  brand-new:\n    description: Added later.\n    default: "x"\n')
    expect(renderReadme(readme, changed)).toContain('| `brand-new` | no | `x` | Added later. |')
  })

  it('notice a changed default', () => {
    const changed = actionYaml.replace('default: deploy', 'default: plan')
    expect(changed).not.toBe(actionYaml)
    expect(renderReadme(readme, changed)).not.toBe(renderReadme(readme, actionYaml))
  })

  it('escape what would break a Markdown table', () => {
    const table = inputsTable({ inputs: { x: { description: 'a | b\nc', default: 'p|q' } } })
    expect(table.split('\n')[2]).toBe('| `x` | no | `p\\|q` | a \\| b c |')
    expect(outputsTable({ outputs: { y: { description: 'one\ntwo' } } })).toContain('| `y` | one two |')
  })

  it('refuse a README without the markers', () => {
    expect(() => renderReadme('# no markers\n', actionYaml)).toThrow(/inputs:start/)
  })

  it('are what `npm run docs` writes, and its --check says so', () => {
    const script = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.docs as string
    const check = spawnSync(process.execPath, [...script.replace(/^node /, '').split(' '), '--check'], { cwd: root, encoding: 'utf8' })
    expect(check.stderr).toBe('')
    expect(check.status).toBe(0)
  })
})
