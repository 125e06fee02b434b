/** src/render/json-pairs-reader.ts: a flat object of strings read entry by entry gives what JSON.parse gives. */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { jsonObjectChunks, writeChunksAtomic } from '../src/render/atomic-write.js'
import { readJsonStringPairs } from '../src/render/json-pairs-reader.js'
import { tempDir } from './support/temp-dir.js'

function fileWith(content: string | Buffer): string {
  const file = path.join(tempDir('json-pairs'), 'list.json')
  fs.writeFileSync(file, content)
  return file
}

function read(file: string): { whole: boolean; entries: [string, string][] } {
  const entries: [string, string][] = []
  const whole = readJsonStringPairs(file, (key, value) => {
    entries.push([key, value])
  })
  return { whole, entries }
}

describe('reading a flat JSON object of strings entry by entry', () => {
  it('reads back what jsonObjectChunks wrote, across reads that cut escapes and multi-byte characters', () => {
    // Names of every length around the 64 KB read size, so that reads end inside escapes and characters.
    const entries = Array.from({ length: 4000 }, (_, i): [string, string] => [
      `dir ${i % 7}/${'"\\'.repeat(i % 5)}ü日${'x'.repeat(i % 61)}.py`,
      `${i.toString(16).padStart(64, '0')}\n`
    ])
    const file = path.join(tempDir('json-pairs'), 'list.json')
    writeChunksAtomic(file, jsonObjectChunks(entries))
    expect(fs.statSync(file).size).toBeGreaterThan(4 * 65536)
    expect(read(file)).toEqual({ whole: true, entries })
  })

  it('takes the whitespace JSON allows, a byte order mark and an empty object', () => {
    const object = { 'a.py': 'h1', 'b/c.py': 'h2' }
    expect(read(fileWith(JSON.stringify(object, null, 2) + '\n'))).toEqual({ whole: true, entries: Object.entries(object) })
    expect(read(fileWith('\uFEFF{"a.py":"h1"}'))).toEqual({ whole: true, entries: [['a.py', 'h1']] })
    expect(read(fileWith(' { }\n'))).toEqual({ whole: true, entries: [] })
  })

  it('refuses text that is not JSON, and JSON that is not an object of strings', () => {
    const notJson = [
      '',
      '{"a.py":"h1"',
      '{"a.py":"h1",}',
      '{"a.py":"h1"}x',
      '"a.py":"h1"}',
      '{"a.py":"h1"{"b.py":"h2"}',
      '{,"a.py":"h1"}',
      '{"a\\x.py":"h1"}',
      '{"a\u0001.py":"h1"}'
    ]
    for (const text of notJson) {
      expect(() => JSON.parse(text) as unknown, text).toThrow()
      expect(read(fileWith(text)).whole, text).toBe(false)
    }
    for (const text of ['{"a.py":1}', '{"a.py":{"hash":"h1"}}', '["a.py","h1"]', 'null']) {
      expect(read(fileWith(text)).whole, text).toBe(false)
    }
    expect(read(fileWith(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x22, 0x68, 0x22, 0x7d]))).whole).toBe(false)
  })

  it('stops where the caller refuses an entry', () => {
    const seen: string[] = []
    const file = fileWith('{"head":"v9","a.py":"h1","b.py":"h2"}')
    expect(readJsonStringPairs(file, key => (seen.push(key), key !== 'a.py'))).toBe(false)
    expect(seen).toEqual(['head', 'a.py'])
  })

  it('gives every entry of a name listed twice, in order, so the caller can keep the last as JSON.parse does', () => {
    expect(read(fileWith('{"a.py":"h1","a.py":"h2"}')).entries).toEqual([
      ['a.py', 'h1'],
      ['a.py', 'h2']
    ])
  })
})
