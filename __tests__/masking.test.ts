import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { maskSecrets, MIN_SECRET_LENGTH, Redactor } from '../src/masking.js'

const src = path.join(import.meta.dirname, '..', 'src')
const sources = (fs.readdirSync(src, { recursive: true }) as string[])
  .filter(f => f.endsWith('.ts'))
  .map(f => ({ file: f.split(path.sep).join('/'), text: fs.readFileSync(path.join(src, f), 'utf8') }))
const filesWith = (pattern: RegExp) => sources.filter(s => pattern.test(s.text)).map(s => s.file)

describe('secret masking', () => {
  it('is written once: one mask, one length rule, one hand-off to the runner', () => {
    expect(filesWith(/['"`]\*\*\*['"`]/)).toEqual(['masking.ts'])
    // Called from log.ts only; src/workflow-commands.ts is where it meets the runner (::add-mask::).
    expect(filesWith(/(?<!function )\bsetSecret\(/)).toEqual(['log.ts'])
    expect(filesWith(/::add-mask::|'add-mask'/)).toEqual(['workflow-commands.ts'])
    expect(filesWith(/MIN_SECRET_LENGTH\s*=/)).toEqual(['masking.ts'])
  })

  it('masks a secret of the minimum length and leaves a shorter value alone', () => {
    const secret = 'k'.repeat(MIN_SECRET_LENGTH)
    expect(maskSecrets(`a ${secret} b`, [secret])).toBe('a *** b')
    expect(maskSecrets('a kk b', ['k'.repeat(MIN_SECRET_LENGTH - 1)])).toBe('a kk b')
  })

  it('masks through a Redactor the same way', () => {
    const redactor = new Redactor()
    redactor.add('p"w d')
    expect(redactor.redact('x p"w d y p\\"w d z p%22w%20d')).toBe('x *** y *** z ***')
  })
})
