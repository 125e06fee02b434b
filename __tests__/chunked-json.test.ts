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
    // One flat object of strings: the head under '', then '<size> <mtimeMs> <sha256>' for each file.
    const cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as Record<string, string>
    expect(JSON.parse(cache[''] ?? '')).toMatchObject({ version: 2, appDir: path.resolve(app) })
    expect(Object.keys(cache)).toHaveLength(51)
    const m7 = files.find(f => f.rel === 'pkg/m7.py')!
    expect(cache['pkg/m7.py']).toBe(`${m7.size} ${m7.mtimeMs} ${first.hashes.get('pkg/m7.py')}`)
    const second = hashProject(listProject(app, { target: path.join(root, 'deploy-root') }), app, cacheFile)
    expect(second.hashed).toBe(0)
    expect(second.treeHash).toBe(first.treeHash)
  })

  it('hashes every file once more from a cache of the earlier shape, or of another app-dir', () => {
    const root = tempDir('chunked-cache')
    const app = path.join(root, 'app')
    fs.mkdirSync(app, { recursive: true })
    fs.writeFileSync(path.join(app, 'a.py'), 'A = 1\n')
    const old = new Date(Date.now() - 60_000)
    fs.utimesSync(path.join(app, 'a.py'), old, old)
    const cacheFile = projectCacheFile(path.join(root, 'deploy-root'), app)
    const files = listProject(app, { target: path.join(root, 'deploy-root') })
    const first = hashProject(files, app, cacheFile, Date.now())
    const a = files[0]
    const v1 = {
      version: 1,
      appDir: path.resolve(app),
      writtenAtMs: Date.now(),
      files: { 'a.py': { size: a.size, mtimeMs: a.mtimeMs, hash: first.hashes.get('a.py') } }
    }
    fs.writeFileSync(cacheFile, JSON.stringify(v1))
    expect(hashProject(files, app, cacheFile).hashed).toBe(1)
    expect(hashProject(files, app, cacheFile).hashed).toBe(0)
    const text = fs.readFileSync(cacheFile, 'utf8')
    fs.writeFileSync(
      cacheFile,
      text.replace(
        JSON.stringify(JSON.stringify(path.resolve(app))).slice(1, -1),
        JSON.stringify(JSON.stringify('/elsewhere')).slice(1, -1)
      )
    )
    expect(hashProject(files, app, cacheFile).hashed).toBe(1)
  })
})
