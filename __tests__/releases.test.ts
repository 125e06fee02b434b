import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { layoutFor, type Layout } from '../src/layout.js'
import { spawn } from 'node:child_process'
import {
  listReleases,
  markRelease,
  previousRelease,
  pruneReleases,
  readRelease,
  removeAbandonedScratch,
  scratchDirFor,
  writeRelease,
  liveRelease
} from '../src/releases.js'

let root: string | undefined
afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

function setup(): Layout {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'releases-'))
  return layoutFor(root)
}

function release(layout: Layout, id: string, minute: number, venvHash: string, appPath?: string): void {
  fs.mkdirSync(layout.releaseDir(id), { recursive: true })
  fs.mkdirSync(layout.venvDir(venvHash), { recursive: true })
  const target = appPath ? { target: { site: 'Default Web Site', appPath } } : {}
  writeRelease(layout, { id, createdAt: `2025-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`, venvHash, state: 'staged', ...target })
}

describe('releases', () => {
  it('lists newest first and tracks live and previous', () => {
    const layout = setup()
    release(layout, 'a', 1, 'v1')
    release(layout, 'b', 2, 'v1')
    release(layout, 'c', 3, 'v2')
    expect(listReleases(layout).map(r => r.id)).toEqual(['c', 'b', 'a'])
    markRelease(layout, 'a', 'live', new Date('2025-01-01T01:00:00Z'))
    markRelease(layout, 'b', 'live', new Date('2025-01-01T02:00:00Z'))
    markRelease(layout, 'c', 'failed')
    expect(liveRelease(layout)?.id).toBe('b')
    expect(readRelease(layout, 'a')?.state).toBe('staged')
    // The failed one never served; the rollback target is the one live before b.
    expect(previousRelease(layout)?.id).toBe('a')
    expect(previousRelease(layout, 'a')?.id).toBe('b')
  })

  it('keeps the newest N plus live and previous, and prunes venvs no kept release uses', () => {
    const layout = setup()
    release(layout, 'r1', 1, 'old')
    release(layout, 'r2', 2, 'v1')
    release(layout, 'r3', 3, 'v1')
    release(layout, 'r4', 4, 'v2')
    release(layout, 'r5', 5, 'v3')
    fs.mkdirSync(layout.venvDir('orphan'), { recursive: true })
    const result = pruneReleases(layout, 2, 'r4', 'r1')
    expect(result.removedReleases.sort()).toEqual(['r2', 'r3'])
    expect(listReleases(layout).map(r => r.id)).toEqual(['r5', 'r4', 'r1'])
    expect(result.removedVenvs.sort()).toEqual(['orphan', 'v1'])
    expect(fs.readdirSync(layout.venvsDir).sort()).toEqual(['old', 'v2', 'v3'])
  })

  it('keeps every venv when a kept release does not say which venv it uses', () => {
    const layout = setup()
    release(layout, 'r1', 1, 'v1')
    fs.mkdirSync(layout.releaseDir('r2'), { recursive: true })
    fs.mkdirSync(layout.venvDir('v9'), { recursive: true })
    const result = pruneReleases(layout, 5, 'r1', undefined)
    expect(result).toEqual({ removedReleases: [], removedVenvs: [], notRemoved: [] })
  })

  it('keeps the fields stage wrote when it marks a release', () => {
    const layout = setup()
    fs.mkdirSync(layout.releaseDir('s1'), { recursive: true })
    const manifest = {
      id: 's1',
      createdAt: '2025-01-01T00:00:00.000Z',
      venvHash: 'v1',
      fingerprint: 'f00',
      wsgiApplication: 'hello.wsgi.application',
      staticFiles: ['a.css']
    }
    fs.writeFileSync(path.join(layout.releaseDir('s1'), 'release.json'), JSON.stringify(manifest))
    markRelease(layout, 's1', 'live', new Date('2025-02-02T00:00:00Z'))
    expect(JSON.parse(fs.readFileSync(path.join(layout.releaseDir('s1'), 'release.json'), 'utf8'))).toEqual({
      ...manifest,
      state: 'live',
      liveAt: '2025-02-02T00:00:00.000Z'
    })
  })

  it("never demotes or prunes another app's releases, nor the venvs they use", () => {
    const layout = setup()
    const b = { site: 'Default Web Site', appPath: '/b' }
    release(layout, 'a1', 1, 'va', '/a')
    markRelease(layout, 'a1', 'live', new Date('2025-01-01T01:00:00Z'))
    for (const [i, id] of ['b1', 'b2', 'b3'].entries()) {
      release(layout, id, 10 + i, 'vb', '/b')
      markRelease(layout, id, 'live', new Date(`2025-01-01T0${2 + i}:00:00Z`))
      const previous = previousRelease(layout, id, b)
      pruneReleases(layout, 2, id, previous?.id, b)
    }
    expect(readRelease(layout, 'a1')?.state).toBe('live')
    expect(fs.existsSync(layout.venvDir('va'))).toBe(true)
    expect(listReleases(layout).map(r => r.id)).toEqual(['b3', 'b2', 'a1'])
    expect(previousRelease(layout, 'b3', b)?.id).toBe('b2')
  })

  it('removes scratch copies of runs that are gone, never one a live run is filling', async () => {
    const layout = setup()
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
    await new Promise(resolve => sleeper.once('spawn', resolve))
    const gone = spawn(process.execPath, ['-e', ''])
    await new Promise(resolve => gone.once('exit', resolve))
    try {
      const live = scratchDirFor(layout, 'r7', sleeper.pid)
      const dead = scratchDirFor(layout, 'r8', gone.pid)
      // The name earlier versions used: the release id, then the pid.
      const legacyDead = path.join(layout.releasesDir, `.staging-42-1-${gone.pid}`)
      for (const d of [live, dead, legacyDead]) fs.mkdirSync(d, { recursive: true })
      expect(removeAbandonedScratch(layout).sort()).toEqual([path.basename(legacyDead), path.basename(dead)].sort())
      expect(fs.existsSync(live)).toBe(true)
    } finally {
      sleeper.kill()
    }
  })
})
