import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { getInputs } from '../src/config.js'
import { pendingGrants } from '../src/iis/acl.js'
import { layoutFor, type Layout } from '../src/layout.js'
import { desiredState } from '../src/plan/desired.js'
import { pruneReleases, removeAbandonedScratch, writeRelease } from '../src/releases.js'
import { linkShared, removeReleaseDir, seedShared, sharedTarget } from '../src/shared/links.js'
import { EXAMPLE_APP } from './support/run-action.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

function temp(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.push(d)
  return d
}

/** A project with a media folder holding one file, and a deploy-root beside it. */
function setup(): { layout: Layout; app: string } {
  const app = temp('shared-app-')
  fs.mkdirSync(path.join(app, 'media', 'avatars'), { recursive: true })
  fs.writeFileSync(path.join(app, 'media', 'avatars', 'seed.png'), 'seed')
  fs.writeFileSync(path.join(app, 'db.sqlite3'), 'SQLite format 3\0')
  return { layout: layoutFor(temp('shared-root-')), app }
}

const SHARED = { dirs: ['media', 'data/cache'], files: ['db.sqlite3'] }

describe('shared folders and files', () => {
  it('seeds from the project copy once, empty where the project has none, and never overwrites later', () => {
    const { layout, app } = setup()
    expect(seedShared(layout, SHARED, app)).toEqual([
      "media (from the project's media)",
      'data/cache (empty: the project has none)',
      "db.sqlite3 (from the project's db.sqlite3)"
    ])
    expect(fs.readFileSync(path.join(layout.sharedDir, 'media', 'avatars', 'seed.png'), 'utf8')).toBe('seed')
    expect(fs.readdirSync(path.join(layout.sharedDir, 'data', 'cache'))).toEqual([])
    // What the app wrote since, and a changed project copy: the next deploy keeps the former.
    fs.writeFileSync(path.join(layout.sharedDir, 'media', 'upload.txt'), 'kept')
    fs.writeFileSync(path.join(app, 'media', 'avatars', 'seed.png'), 'changed')
    fs.writeFileSync(path.join(layout.sharedDir, 'db.sqlite3'), 'live data')
    expect(seedShared(layout, SHARED, app)).toEqual([])
    expect(fs.readFileSync(path.join(layout.sharedDir, 'media', 'avatars', 'seed.png'), 'utf8')).toBe('seed')
    expect(fs.readFileSync(path.join(layout.sharedDir, 'media', 'upload.txt'), 'utf8')).toBe('kept')
    expect(fs.readFileSync(path.join(layout.sharedDir, 'db.sqlite3'), 'utf8')).toBe('live data')
    expect(fs.readdirSync(layout.sharedDir).filter(n => n.includes('.seeding-'))).toEqual([])
  })

  it('refuses a shared path whose existing target is of the other kind, naming the input', () => {
    const { layout, app } = setup()
    fs.mkdirSync(path.join(layout.sharedDir, 'db.sqlite3'), { recursive: true })
    expect(() => seedShared(layout, { dirs: [], files: ['db.sqlite3'] }, app)).toThrow(
      /exists but is not a file, as shared-files lists 'db.sqlite3'/
    )
  })

  it('links every shared path into a release, replacing the release copy, and again without change', () => {
    const { layout, app } = setup()
    seedShared(layout, SHARED, app)
    const release = layout.releaseDir('r1')
    fs.mkdirSync(path.join(release, 'media'), { recursive: true })
    fs.writeFileSync(path.join(release, 'media', 'stale.txt'), 'release copy')
    linkShared(layout, SHARED, release)
    for (const rel of ['media', 'data/cache', 'db.sqlite3']) {
      const link = path.join(release, ...rel.split('/'))
      expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
      expect(fs.realpathSync(link)).toBe(fs.realpathSync(sharedTarget(layout, rel)))
    }
    // Written through the release's link, it lands in shared/.
    fs.writeFileSync(path.join(release, 'media', 'through-link.txt'), 'x')
    expect(fs.existsSync(path.join(layout.sharedDir, 'media', 'through-link.txt'))).toBe(true)
    expect(fs.existsSync(path.join(layout.sharedDir, 'media', 'stale.txt'))).toBe(false)
    const before = fs.lstatSync(path.join(release, 'media')).ino
    linkShared(layout, SHARED, release)
    expect(fs.lstatSync(path.join(release, 'media')).ino).toBe(before)
  })

  it('retention deletes old releases with their links and never what is behind them', () => {
    const { layout, app } = setup()
    seedShared(layout, SHARED, app)
    fs.writeFileSync(path.join(layout.sharedDir, 'media', 'upload.txt'), 'an upload')
    for (const [i, id] of ['r1', 'r2', 'r3'].entries()) {
      fs.mkdirSync(layout.releaseDir(id), { recursive: true })
      linkShared(layout, SHARED, layout.releaseDir(id))
      // r1 recorded its shared paths; r2 did not (an older manifest): its links are found all the same.
      writeRelease(layout, { id, createdAt: `2025-01-01T00:0${i}:00.000Z`, venvHash: 'v', ...(id === 'r1' ? { shared: SHARED } : {}) })
    }
    const pruned = pruneReleases(layout, 1, 'r3', undefined)
    expect(pruned.removedReleases.sort()).toEqual(['r1', 'r2'])
    expect(fs.existsSync(layout.releaseDir('r1'))).toBe(false)
    expect(fs.readFileSync(path.join(layout.sharedDir, 'media', 'upload.txt'), 'utf8')).toBe('an upload')
    expect(fs.readFileSync(path.join(layout.sharedDir, 'media', 'avatars', 'seed.png'), 'utf8')).toBe('seed')
    expect(fs.readFileSync(path.join(layout.sharedDir, 'db.sqlite3'), 'utf8')).toBe('SQLite format 3\0')
    expect(fs.existsSync(path.join(layout.sharedDir, 'data', 'cache'))).toBe(true)
  })

  it('an abandoned scratch copy and a failed stage take only their links with them', () => {
    const { layout, app } = setup()
    seedShared(layout, SHARED, app)
    const scratch = path.join(layout.releasesDir, '.staging-pid999999999-r9')
    fs.mkdirSync(scratch, { recursive: true })
    linkShared(layout, SHARED, scratch)
    expect(removeAbandonedScratch(layout)).toEqual(['.staging-pid999999999-r9'])
    const failed = layout.releaseDir('failed')
    fs.mkdirSync(failed, { recursive: true })
    linkShared(layout, SHARED, failed)
    removeReleaseDir(failed, SHARED)
    expect(fs.existsSync(failed)).toBe(false)
    expect(fs.readFileSync(path.join(layout.sharedDir, 'media', 'avatars', 'seed.png'), 'utf8')).toBe('seed')
  })
})

describe('the pool identity and shared/', () => {
  function config(root: string, inputs: Record<string, string>) {
    const all: Record<string, string> = { mode: 'plan', 'app-dir': EXAMPLE_APP, 'deploy-root': root, 'app-path': '/app', ...inputs }
    return getInputs(name => all[name] ?? '', {}, EXAMPLE_APP)
  }
  const facts = {
    releaseId: 'r1',
    venvHash: 'v1',
    pythonVersion: '3.11',
    pythonHome: '/py',
    wsgiApplication: '',
    staticSettings: { staticUrl: 'static/', forceScriptName: null }
  }

  it('gets modify rights on shared/ as a planned icacls step, and write rights nowhere else but logs', () => {
    const root = temp('shared-acl-')
    const desired = desiredState(config(root, { 'shared-dirs': 'media' }), facts)
    const writable = desired.acl.filter(g => g.permission.includes('M'))
    expect(writable.map(g => g.path)).toEqual([path.join(root, 'logs'), path.join(root, 'shared')])
    const plan = pendingGrants(root, desired.pool.name, desired.acl, desired.pool.principal)
    expect(plan.operations.map(o => o.argv)).toContainEqual([
      path.join(root, 'shared'),
      '/grant:r',
      `${desired.pool.principal}:(OI)(CI)M`,
      '/Q'
    ])
  })

  it('gets no grant on shared/ when nothing is shared', () => {
    const desired = desiredState(config(temp('shared-acl-'), {}), facts)
    expect(desired.acl.some(g => g.path.endsWith('shared'))).toBe(false)
  })
})
