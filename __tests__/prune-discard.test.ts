// Pruning renames a release or venv out of the way before deleting it (src/discard.ts): a delete that stops
// half-way, as on a file held open, never leaves a folder that a later run would take for a whole release.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { layoutFor, type Layout } from '../src/layout.js'
import { discardDir } from '../src/discard.js'
import { findReleaseByFingerprint, listReleases, pruneReleases, readRelease, writeRelease } from '../src/releases.js'

let root = ''
afterEach(() => {
  vi.restoreAllMocks()
  fs.rmSync(root, { recursive: true, force: true })
})

function setup(): Layout {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-discard-'))
  const layout = layoutFor(root)
  for (const [id, minute, venv] of [
    ['r1', 1, 'v1'],
    ['r2', 2, 'v2'],
    ['r3', 3, 'v3']
  ] as const) {
    fs.mkdirSync(path.join(layout.releaseDir(id), 'static'), { recursive: true })
    fs.writeFileSync(path.join(layout.releaseDir(id), 'static', 'site.css'), id)
    fs.mkdirSync(layout.venvDir(venv), { recursive: true })
    writeRelease(layout, { id, createdAt: `2025-01-01T00:0${minute}:00.000Z`, venvHash: venv, state: 'staged', fingerprint: `f-${id}` })
  }
  return layout
}

const busy = (what: string) => Object.assign(new Error(`resource busy or locked, ${what}`), { code: 'EBUSY' })

describe('pruning by rename, then delete', () => {
  it('leaves a release it cannot rename whole, with its venv, and says so', () => {
    const layout = setup()
    const rename = fs.renameSync.bind(fs)
    vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      if (String(from) === layout.releaseDir('r1')) throw busy(String(from))
      rename(from, to)
    })
    const result = pruneReleases(layout, 1, 'r3', undefined)
    expect(result.removedReleases).toEqual(['r2'])
    expect(result.removedVenvs).toEqual(['v2'])
    expect(result.notRemoved).toEqual([
      `${layout.releaseDir('r1')} could not be removed (EBUSY: resource busy or locked, ${layout.releaseDir('r1')}); a later run removes it`
    ])
    expect(readRelease(layout, 'r1')?.id).toBe('r1')
    expect(fs.readFileSync(path.join(layout.releaseDir('r1'), 'static', 'site.css'), 'utf8')).toBe('r1')
    expect(fs.existsSync(layout.venvDir('v1'))).toBe(true)
    expect(fs.readdirSync(layout.releasesDir).sort()).toEqual(['r1', 'r3'])
  })

  it('never leaves a half-deleted release to be reused, and a later prune finishes it without entering shared/', () => {
    const layout = setup()
    const shared = path.join(root, 'shared', 'media')
    fs.mkdirSync(shared, { recursive: true })
    fs.writeFileSync(path.join(shared, 'upload.png'), 'kept')
    fs.symlinkSync(shared, path.join(layout.releaseDir('r1'), 'media'), 'dir')
    const rm = fs.rmSync.bind(fs)
    // The delete removes the static folder, then stops on a held file: release.json is still in the folder.
    vi.spyOn(fs, 'rmSync').mockImplementation((target, options) => {
      const release = path.dirname(String(target)) === layout.releasesDir
      if (!release || !path.basename(String(target)).startsWith('.pruning-')) return rm(target, options)
      rm(path.join(String(target), 'static'), { recursive: true })
      throw busy(String(target))
    })
    const result = pruneReleases(layout, 1, 'r3', 'r2')
    expect(result.removedReleases).toEqual(['r1'])
    expect(result.notRemoved).toHaveLength(1)
    expect(result.notRemoved[0]).toMatch(/\.pruning-pid\d+-r1, once .*r1, is left over \(EBUSY: .*\); a later run removes it$/)
    expect(listReleases(layout).map(r => r.id)).toEqual(['r3', 'r2'])
    expect(findReleaseByFingerprint(layout, 'f-r1')).toBeUndefined()
    expect(fs.readdirSync(layout.releasesDir).filter(n => n.startsWith('.pruning-'))).toHaveLength(1)

    vi.restoreAllMocks()
    pruneReleases(layout, 1, 'r3', 'r2')
    expect(fs.readdirSync(layout.releasesDir).sort()).toEqual(['r2', 'r3'])
    expect(fs.readFileSync(path.join(shared, 'upload.png'), 'utf8')).toBe('kept')
  })

  it('finishes a venv left over the same way, and never takes it for a venv', () => {
    const layout = setup()
    const rm = fs.rmSync.bind(fs)
    let held = true
    vi.spyOn(fs, 'rmSync').mockImplementation((target, options) => {
      if (held && path.basename(String(target)).startsWith('.pruning-') && String(target).includes('v1')) throw busy(String(target))
      return rm(target, options)
    })
    const first = pruneReleases(layout, 1, 'r3', 'r2')
    expect(first.removedVenvs).toEqual(['v1'])
    expect(
      fs
        .readdirSync(layout.venvsDir)
        .filter(n => !n.startsWith('.'))
        .sort()
    ).toEqual(['v2', 'v3'])
    held = false
    const second = pruneReleases(layout, 1, 'r3', 'r2')
    expect(second.removedVenvs).toEqual([])
    expect(fs.readdirSync(layout.venvsDir).sort()).toEqual(['v2', 'v3'])
  })
  it('counts a folder that does not exist as removed, without calling the delete', () => {
    setup()
    let called = false
    expect(discardDir(path.join(root, 'never-made'), () => (called = true))).toEqual({ gone: true })
    expect(called).toBe(false)
  })
})
