/** Large JSON records written piece by piece (src/render/atomic-write.ts) read back as JSON.stringify wrote them. */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { hashProject, projectCacheFile } from '../src/project-fingerprint.js'
import { listProject } from '../src/python/release-files.js'
import { jsonObjectChunks, writeChunksAtomic } from '../src/render/atomic-write.js'
import { tempDir } from './support/temp-dir.js'

describe('chunked JSON', () => {
  it('gives the text of JSON.stringify, for keys and values that need escaping', () => {
    const entries: [string, unknown][] = [
      ['plain/file.py', 'abc'],
      ['with "quotes" and \\ back\\slash.txt', { size: 3, mtimeMs: 1.5, hash: 'ff' }],
      ['ünïcode/日本.txt', 'x\ny\u2028'],
      ['', null]
    ]
    expect([...jsonObjectChunks(entries)].join('')).toBe(JSON.stringify(Object.fromEntries(entries)))
    expect([...jsonObjectChunks([])].join('')).toBe('{}')
  })

  it('writes more than one 64 KB piece whole, and leaves no temp file', () => {
    const dir = tempDir('chunked-json')
    const file = path.join(dir, 'sub', 'list.json')
    const entries = Array.from({ length: 5000 }, (_, i) => [`bulk/p${i % 10}/m${i}.py`, `${i}`.repeat(20)] as const)
    writeChunksAtomic(file, jsonObjectChunks(entries))
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(Object.fromEntries(entries))
    expect(fs.statSync(file).size).toBeGreaterThan(3 * 65536)
    expect(fs.readdirSync(path.dirname(file))).toEqual(['list.json'])
  })

  it('keeps the project cache in its shape: a second look reads no file again', () => {
    const root = tempDir('chunked-cache')
    const app = path.join(root, 'app')
    fs.mkdirSync(path.join(app, 'pkg'), { recursive: true })
    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(app, 'pkg', `m${i}.py`), `X = ${i}\n`)
    const old = new Date(Date.now() - 60_000)
    for (const f of fs.readdirSync(path.join(app, 'pkg'))) fs.utimesSync(path.join(app, 'pkg', f), old, old)
    const cacheFile = projectCacheFile(path.join(root, 'deploy-root'), app)
    const files = listProject(app, { target: path.join(root, 'deploy-root') })
    const first = hashProject(files, app, cacheFile)
    expect(first.hashed).toBe(50)
    const cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as {
      version: number
      appDir: string
      files: Record<string, { hash: string }>
    }
    expect(cache.version).toBe(1)
    expect(cache.appDir).toBe(path.resolve(app))
    expect(Object.keys(cache.files)).toHaveLength(50)
    expect(cache.files['pkg/m7.py']?.hash).toBe(first.hashes.get('pkg/m7.py'))
    const second = hashProject(listProject(app, { target: path.join(root, 'deploy-root') }), app, cacheFile)
    expect(second.hashed).toBe(0)
    expect(second.treeHash).toBe(first.treeHash)
  })
})
