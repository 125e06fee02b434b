// A new release shares the bytecode Python compiled for its unchanged modules (src/python/shared-bytecode.ts):
// only for modules whose source it links, never for a changed or removed one, and a refused link costs nothing but
// the compile. __tests__/static-share.test.ts shows real Python using the shared files as they are.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { layoutFor, type Layout } from '../src/layout.js'
import { hashProject, projectCacheFile } from '../src/project-fingerprint.js'
import { listProject } from '../src/python/release-files.js'
import { moduleOfCacheFile } from '../src/python/shared-bytecode.js'
import { buildReleaseTree } from '../src/release-tree.js'
import { markRelease, writeRelease } from '../src/releases.js'
import { tempDir } from './support/temp-dir.js'
import { writeFiles } from './support/write-files.js'

afterEach(() => vi.restoreAllMocks())

const TAG = 'cpython-311'
// The interpreter of an earlier venv: a Python upgrade leaves its cache files in the live release.
const OLD_TAG = 'cpython-39'
const inode = (file: string): number => fs.statSync(file).ino

/** What Python would have cached in a release of the project below, with a module since removed and another file. */
function writeCache(releaseDir: string): void {
  writeFiles(releaseDir, {
    [`__pycache__/manage.${TAG}.pyc`]: 'manage',
    [`mysite/__pycache__/settings.${TAG}.pyc`]: 'settings',
    [`mysite/__pycache__/settings.${TAG}.opt-1.pyc`]: 'settings -O',
    [`mysite/__pycache__/settings.${OLD_TAG}.pyc`]: 'settings, compiled by the Python before an upgrade',
    [`mysite/__pycache__/views.${TAG}.pyc`]: 'views',
    [`mysite/__pycache__/gone.${TAG}.pyc`]: 'a module since removed',
    [`other/__pycache__/views.${TAG}.pyc`]: 'views of another folder',
    'mysite/__pycache__/notes.txt': 'not bytecode'
  })
}

/** A project of four modules in three folders, two of them named alike, and its release r1 with what Python cached. */
function firstRelease(): { appDir: string; layout: Layout } {
  const appDir = path.join(tempDir('shared-bytecode'), 'app')
  writeFiles(appDir, {
    'manage.py': 'print(1)\n',
    'mysite/settings.py': 'DEBUG = False\n',
    'mysite/views.py': 'def index(r): pass\n',
    'other/views.py': 'def other(r): pass\n'
  })
  const layout = layoutFor(path.join(tempDir('shared-bytecode-root'), 'deploy'))
  stage(layout, appDir, 'r1')
  writeCache(layout.releaseDir('r1'))
  return { appDir, layout }
}

function stage(layout: Layout, appDir: string, id: string, cacheTag: string | null = TAG): ReturnType<typeof buildReleaseTree> {
  const files = listProject(appDir, { target: layout.root })
  const project = hashProject(files, appDir, projectCacheFile(layout.root, appDir))
  const built = buildReleaseTree(layout, files, project.hashes, layout.releaseDir(id), cacheTag)
  writeRelease(layout, { id, createdAt: new Date().toISOString(), venvHash: 'v1', state: 'staged' })
  markRelease(layout, id, 'live')
  return built
}

describe('moduleOfCacheFile', () => {
  it("names the module of the interpreter's cache file, optimized or not, and nothing for any other name", () => {
    expect(moduleOfCacheFile(`views.${TAG}.pyc`, TAG)).toBe('views')
    expect(moduleOfCacheFile(`views.${TAG}.opt-2.pyc`, TAG)).toBe('views')
    expect(moduleOfCacheFile(`views.${TAG}.opt-x1.pyc`, TAG)).toBe('views')
    expect(moduleOfCacheFile(`my.module.${TAG}.pyc`, TAG)).toBe('my.module')
    expect(moduleOfCacheFile(`views.${OLD_TAG}.pyc`, TAG)).toBeUndefined()
    expect(moduleOfCacheFile(`views.${OLD_TAG}.opt-1.pyc`, TAG)).toBeUndefined()
    expect(moduleOfCacheFile(`${TAG}.pyc`, TAG)).toBeUndefined()
    expect(moduleOfCacheFile('views.pyc', TAG)).toBeUndefined()
    expect(moduleOfCacheFile(`views.${TAG}.pyc.tmp`, TAG)).toBeUndefined()
    // What Python writes before it renames the file into place (_write_atomic): `<name>.<id>`.
    expect(moduleOfCacheFile(`views.${TAG}.pyc.140234`, TAG)).toBeUndefined()
    expect(moduleOfCacheFile('notes.txt', TAG)).toBeUndefined()
  })
})

describe('sharing bytecode with the link source', () => {
  it('links the cache files of the unchanged modules only', () => {
    const { appDir, layout } = firstRelease()
    fs.writeFileSync(path.join(appDir, 'mysite', 'views.py'), 'def index(r): return 2\n')
    const built = stage(layout, appDir, 'r2')
    expect(built).toMatchObject({ linked: 3, copied: 1, bytecode: 4, from: 'r1' })
    const [r1, r2] = [layout.releaseDir('r1'), layout.releaseDir('r2')]
    for (const rel of [
      `__pycache__/manage.${TAG}.pyc`,
      `mysite/__pycache__/settings.${TAG}.pyc`,
      `mysite/__pycache__/settings.${TAG}.opt-1.pyc`,
      // The same module name in another folder, unchanged there: shared, though mysite's views changed.
      `other/__pycache__/views.${TAG}.pyc`
    ]) {
      expect(inode(path.join(r2, rel))).toBe(inode(path.join(r1, rel)))
    }
    // Neither the changed module's nor the earlier interpreter's file.
    expect(fs.readdirSync(path.join(r2, 'mysite', '__pycache__')).sort()).toEqual([`settings.${TAG}.opt-1.pyc`, `settings.${TAG}.pyc`])
  })

  it('shares the cache files of the interpreter it is given only, and none for one that writes none', () => {
    const { appDir, layout } = firstRelease()
    fs.appendFileSync(path.join(appDir, 'manage.py'), '# new\n')
    // The venv of a Python upgrade: the live release holds the old interpreter's files only.
    expect(stage(layout, appDir, 'r2', OLD_TAG)).toMatchObject({ linked: 3, copied: 1, bytecode: 1 })
    expect(inode(path.join(layout.releaseDir('r2'), 'mysite', '__pycache__', `settings.${OLD_TAG}.pyc`))).toBe(
      inode(path.join(layout.releaseDir('r1'), 'mysite', '__pycache__', `settings.${OLD_TAG}.pyc`))
    )
    // Python again with TAG, but writing no cache files: r3 shares from r2, which holds TAG's files as r1 did.
    writeCache(layout.releaseDir('r2'))
    fs.appendFileSync(path.join(appDir, 'manage.py'), '# newer\n')
    expect(stage(layout, appDir, 'r3', null)).toMatchObject({ linked: 3, copied: 1, bytecode: 0 })
    expect(fs.readdirSync(layout.releaseDir('r3'), { recursive: true }).filter(name => String(name).endsWith('.pyc'))).toEqual([])
  })

  it('shares no bytecode for a module whose source was copied, and leaves a refused link to Python', () => {
    const { appDir, layout } = firstRelease()
    fs.appendFileSync(path.join(appDir, 'manage.py'), '# new\n')
    const realLink = fs.linkSync.bind(fs)
    const link = vi.spyOn(fs, 'linkSync').mockImplementation(() => {
      throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' })
    })
    expect(stage(layout, appDir, 'r2')).toMatchObject({ linked: 0, copied: 4, bytecode: 0 })
    expect(fs.existsSync(path.join(layout.releaseDir('r2'), 'mysite', '__pycache__'))).toBe(false)
    // The project's files link; the bytecode's links are refused (the link limit of a file, say).
    link.mockImplementation((from, to) => {
      if (String(to).endsWith('.pyc')) throw Object.assign(new Error('EMLINK: too many links'), { code: 'EMLINK' })
      realLink(from, to)
    })
    writeCache(layout.releaseDir('r2'))
    fs.appendFileSync(path.join(appDir, 'manage.py'), '# newer\n')
    expect(stage(layout, appDir, 'r3')).toMatchObject({ linked: 3, copied: 1, bytecode: 0 })
    const r3 = layout.releaseDir('r3')
    expect(fs.readFileSync(path.join(r3, 'mysite', 'settings.py'), 'utf8')).toBe('DEBUG = False\n')
    expect(fs.readdirSync(r3, { recursive: true }).filter(name => String(name).endsWith('.pyc'))).toEqual([])
  })
})
