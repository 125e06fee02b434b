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
const inode = (file: string): number => fs.statSync(file).ino

/** What Python would have cached in a release of the project below, with a module since removed and another file. */
function writeCache(releaseDir: string): void {
  writeFiles(releaseDir, {
    [`__pycache__/manage.${TAG}.pyc`]: 'manage',
    [`mysite/__pycache__/settings.${TAG}.pyc`]: 'settings',
    [`mysite/__pycache__/settings.${TAG}.opt-1.pyc`]: 'settings -O',
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

function stage(layout: Layout, appDir: string, id: string): ReturnType<typeof buildReleaseTree> {
  const files = listProject(appDir, { target: layout.root })
  const project = hashProject(files, appDir, projectCacheFile(layout.root, appDir))
  const built = buildReleaseTree(layout, files, project.hashes, layout.releaseDir(id))
  writeRelease(layout, { id, createdAt: new Date().toISOString(), venvHash: 'v1', state: 'staged' })
  markRelease(layout, id, 'live')
  return built
}

describe('moduleOfCacheFile', () => {
  it('names the module of a cache file, optimized or not, and nothing for any other name', () => {
    expect(moduleOfCacheFile(`views.${TAG}.pyc`)).toBe('views')
    expect(moduleOfCacheFile(`views.${TAG}.opt-2.pyc`)).toBe('views')
    expect(moduleOfCacheFile(`my.module.${TAG}.pyc`)).toBe('my.module')
    expect(moduleOfCacheFile('views.pyc')).toBeUndefined()
    expect(moduleOfCacheFile(`views.${TAG}.pyc.tmp`)).toBeUndefined()
    expect(moduleOfCacheFile('notes.txt')).toBeUndefined()
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
    expect(fs.readdirSync(path.join(r2, 'mysite', '__pycache__')).sort()).toEqual([`settings.${TAG}.opt-1.pyc`, `settings.${TAG}.pyc`])
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
