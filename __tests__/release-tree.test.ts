import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { layoutFor, type Layout } from '../src/layout.js'
import { hashProject, projectCacheFile } from '../src/project-fingerprint.js'
import * as releaseFiles from '../src/python/release-files.js'
import { hashFile, listProject, treeHash } from '../src/python/release-files.js'
import { buildReleaseTree } from '../src/release-tree.js'
import { markRelease, pruneReleases, writeRelease } from '../src/releases.js'
import { writeFileAtomic } from '../src/render/atomic-write.js'
import { tempDir } from './support/temp-dir.js'

afterEach(() => vi.restoreAllMocks())

/** Sets a file's mtime well before now, as a file checked out earlier has: its cache entry is then trustworthy. */
function age(file: string, secondsAgo = 60): void {
  const t = new Date(Date.now() - secondsAgo * 1000)
  fs.utimesSync(file, t, t)
}

function app(): string {
  const dir = path.join(tempDir('release-tree'), 'app')
  for (const [rel, content] of [
    ['manage.py', 'print(1)\n'],
    ['mysite/settings.py', 'DEBUG = False\n'],
    ['mysite/views.py', 'def index(r): pass\n'],
    ['assets/app.css', 'body {}\n']
  ]) {
    const file = path.join(dir, rel)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, content)
    age(file)
  }
  return dir
}

/** One stage's file work, as src/stage.ts does it: list, hash through the cache, build, mark live. */
function stage(layout: Layout, appDir: string, id: string): { hashed: number; linked: number; copied: number; tree: string } {
  const files = listProject(appDir, { target: layout.root })
  const project = hashProject(files, appDir, projectCacheFile(layout.root, appDir))
  const built = buildReleaseTree(layout, files, project.hashes, layout.releaseDir(id), 'cpython-311')
  writeRelease(layout, { id, createdAt: new Date().toISOString(), venvHash: 'v1', state: 'staged' })
  markRelease(layout, id, 'live')
  return { hashed: project.hashed, linked: built.linked, copied: built.copied, tree: project.treeHash }
}

const inode = (file: string): number => fs.statSync(file).ino

describe('project fingerprint', () => {
  it('reads each file once; a no-op reads none, and its tree hash equals the one of a full copy', () => {
    const appDir = app()
    const layout = layoutFor(path.join(tempDir('release-tree-root'), 'deploy'))
    const cache = projectCacheFile(layout.root, appDir)
    const files = listProject(appDir, { target: layout.root })
    const first = hashProject(files, appDir, cache)
    expect(first.hashed).toBe(4)
    const spy = vi.spyOn(fs, 'openSync')
    const again = hashProject(listProject(appDir, { target: layout.root }), appDir, cache)
    expect(again.hashed).toBe(0)
    // The cache is read; no project file is.
    expect(spy.mock.calls.map(call => String(call[0])).filter(file => file.startsWith(appDir))).toEqual([])
    expect(spy).toHaveBeenCalledTimes(1)
    expect(again.treeHash).toBe(first.treeHash)
    const copy = path.join(tempDir('release-tree-copy'), 'r')
    releaseFiles.copyProject(appDir, copy)
    expect(treeHash(copy)).toBe(first.treeHash)
  })

  it('reads again only the file whose size or mtime changed, and the tree hash follows its content', () => {
    const appDir = app()
    const root = path.join(tempDir('release-tree-root'), 'deploy')
    const cache = projectCacheFile(root, appDir)
    const first = hashProject(listProject(appDir, { target: root }), appDir, cache)
    const views = path.join(appDir, 'mysite', 'views.py')
    fs.writeFileSync(views, 'def index(r): return 1\n')
    const changed = hashProject(listProject(appDir, { target: root }), appDir, cache)
    expect(changed.hashed).toBe(1)
    expect(changed.treeHash).not.toBe(first.treeHash)
    expect(changed.hashes.get('mysite/views.py')).toBe(hashFile(views))
  })

  it('does not trust metadata written within the racy window: same size and mtime, new content, new hash', () => {
    const appDir = app()
    const root = path.join(tempDir('release-tree-root'), 'deploy')
    const cache = projectCacheFile(root, appDir)
    const views = path.join(appDir, 'mysite', 'views.py')
    const stamp = new Date()
    fs.utimesSync(views, stamp, stamp)
    hashProject(listProject(appDir, { target: root }), appDir, cache)
    // Same length, same mtime: only the content says it changed.
    fs.writeFileSync(views, 'def index(r): PASS\n')
    fs.utimesSync(views, stamp, stamp)
    const next = hashProject(listProject(appDir, { target: root }), appDir, cache)
    expect(next.hashes.get('mysite/views.py')).toBe(hashFile(views))
  })

  it('reads a racy file again each run without rewriting the cache for it, until many are racy', () => {
    const appDir = app()
    const root = path.join(tempDir('release-tree-root'), 'deploy')
    const cache = projectCacheFile(root, appDir)
    const writtenAt = (): number => {
      const head = (JSON.parse(fs.readFileSync(cache, 'utf8')) as Record<string, string>)['']
      return (JSON.parse(head ?? '{}') as { writtenAtMs: number }).writtenAtMs
    }
    // Edited just before the first deploy: within the racy window of the cache that deploy writes.
    fs.utimesSync(path.join(appDir, 'mysite', 'views.py'), new Date(), new Date())
    const first = Date.now() - 10_000
    hashProject(listProject(appDir, { target: root }), appDir, cache, first)
    for (let run = 1; run <= 2; run++) {
      const again = hashProject(listProject(appDir, { target: root }), appDir, cache, first + run)
      expect(again.hashed).toBe(1)
      expect(writtenAt()).toBe(first)
    }

    // Past the limit, one rewrite is cheaper than reading them all on every run.
    for (let i = 0; i < 64; i++) fs.writeFileSync(path.join(appDir, 'assets', `f${i}.css`), `/* ${i} */\n`)
    hashProject(listProject(appDir, { target: root }), appDir, cache, first + 3)
    expect(writtenAt()).toBe(first + 3)
    const many = hashProject(listProject(appDir, { target: root }), appDir, cache, first + 4)
    expect(many.hashed).toBe(65)
    expect(writtenAt()).toBe(first + 4)
  })

  it('hashes a file larger than its read chunk by streaming, with the same digest as a whole read', () => {
    const file = path.join(tempDir('release-tree-big'), 'big.bin')
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 9)
    fs.writeFileSync(file, data)
    const readFile = vi.spyOn(fs, 'readFileSync')
    const digest = hashFile(file)
    expect(readFile).not.toHaveBeenCalled()
    expect(digest).toBe(createHash('sha256').update(data).digest('hex'))
  })
})

describe('release tree', () => {
  it('shares unchanged files with the live release by hard link and copies the changed one', () => {
    const appDir = app()
    const layout = layoutFor(path.join(tempDir('release-tree-root'), 'deploy'))
    const first = stage(layout, appDir, 'r1')
    expect(first).toMatchObject({ linked: 0, copied: 4 })
    fs.writeFileSync(path.join(appDir, 'mysite', 'views.py'), 'def index(r): return 2\n')
    const second = stage(layout, appDir, 'r2')
    expect(second).toMatchObject({ hashed: 1, linked: 3, copied: 1 })
    const r1 = layout.releaseDir('r1')
    const r2 = layout.releaseDir('r2')
    expect(inode(path.join(r2, 'manage.py'))).toBe(inode(path.join(r1, 'manage.py')))
    expect(inode(path.join(r2, 'mysite', 'views.py'))).not.toBe(inode(path.join(r1, 'mysite', 'views.py')))
    expect(fs.readFileSync(path.join(r1, 'mysite', 'views.py'), 'utf8')).toBe('def index(r): pass\n')
    expect(fs.readFileSync(path.join(r2, 'mysite', 'views.py'), 'utf8')).toBe('def index(r): return 2\n')
  })

  it("shares by the live release's list as JSON.parse reads it, and nothing from a damaged list", () => {
    const appDir = app()
    const layout = layoutFor(path.join(tempDir('release-tree-root'), 'deploy'))
    stage(layout, appDir, 'r1')
    const list = path.join(layout.releaseDir('r1'), 'release.files.json')
    const listed = JSON.parse(fs.readFileSync(list, 'utf8')) as Record<string, string>
    // Listed twice, the last entry holds: a wrong hash after the right one is not shared.
    fs.writeFileSync(list, JSON.stringify(listed).replace(/\}$/, ',"manage.py":"0000"}'))
    expect(stage(layout, appDir, 'r2')).toMatchObject({ linked: 3, copied: 1 })
    expect(inode(path.join(layout.releaseDir('r2'), 'manage.py'))).not.toBe(inode(path.join(layout.releaseDir('r1'), 'manage.py')))

    // The live release's list cut short is passed over for the next release that lists its files: r1's.
    const r2List = path.join(layout.releaseDir('r2'), 'release.files.json')
    fs.writeFileSync(r2List, fs.readFileSync(r2List, 'utf8').slice(0, -5))
    fs.writeFileSync(path.join(appDir, 'mysite', 'views.py'), 'def index(r): return 3\n')
    expect(stage(layout, appDir, 'r3')).toMatchObject({ hashed: 1, linked: 2, copied: 2 })
    // With every list damaged, nothing is shared.
    for (const id of ['r1', 'r3']) fs.writeFileSync(path.join(layout.releaseDir(id), 'release.files.json'), '{"manage.py":')
    fs.writeFileSync(path.join(appDir, 'mysite', 'views.py'), 'def index(r): return 4\n')
    expect(stage(layout, appDir, 'r4')).toMatchObject({ linked: 0, copied: 4 })
  })

  it('a file rewritten in the new release (by rename) leaves the shared one of the live release as it was', () => {
    const appDir = app()
    const layout = layoutFor(path.join(tempDir('release-tree-root'), 'deploy'))
    stage(layout, appDir, 'r1')
    fs.appendFileSync(path.join(appDir, 'manage.py'), '# new\n')
    stage(layout, appDir, 'r2')
    const settings = path.join(layout.releaseDir('r2'), 'mysite', 'settings.py')
    const live = path.join(layout.releaseDir('r1'), 'mysite', 'settings.py')
    expect(inode(settings)).toBe(inode(live))
    writeFileAtomic(settings, 'DEBUG = True\n')
    expect(fs.readFileSync(live, 'utf8')).toBe('DEBUG = False\n')
    expect(fs.readFileSync(settings, 'utf8')).toBe('DEBUG = True\n')
  })

  it('copies when the file system refuses a hard link (EXDEV: another volume)', () => {
    const appDir = app()
    const layout = layoutFor(path.join(tempDir('release-tree-root'), 'deploy'))
    stage(layout, appDir, 'r1')
    fs.appendFileSync(path.join(appDir, 'manage.py'), '# new\n')
    const link = vi.spyOn(fs, 'linkSync').mockImplementation(() => {
      throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' })
    })
    const second = stage(layout, appDir, 'r2')
    expect(link).toHaveBeenCalled()
    expect(second).toMatchObject({ linked: 0, copied: 4 })
    expect(fs.readFileSync(path.join(layout.releaseDir('r2'), 'mysite', 'settings.py'), 'utf8')).toBe('DEBUG = False\n')
  })

  it('pruning the release whose files a newer one shares leaves the newer one whole', () => {
    const appDir = app()
    const layout = layoutFor(path.join(tempDir('release-tree-root'), 'deploy'))
    fs.mkdirSync(layout.venvDir('v1'), { recursive: true })
    stage(layout, appDir, 'r1')
    fs.appendFileSync(path.join(appDir, 'manage.py'), '# 2\n')
    stage(layout, appDir, 'r2')
    fs.appendFileSync(path.join(appDir, 'manage.py'), '# 3\n')
    stage(layout, appDir, 'r3')
    const before = treeHash(layout.releaseDir('r3'))
    const { removedReleases } = pruneReleases(layout, 1, 'r3', 'r2')
    expect(removedReleases).toEqual(['r1'])
    expect(fs.existsSync(layout.releaseDir('r1'))).toBe(false)
    expect(treeHash(layout.releaseDir('r3'))).toBe(before)
    expect(fs.readFileSync(path.join(layout.releaseDir('r2'), 'assets', 'app.css'), 'utf8')).toBe('body {}\n')
  })
})
