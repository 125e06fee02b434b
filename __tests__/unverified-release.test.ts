import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { getInputs } from '../src/config.js'
import type { ApplyResult } from '../src/iis/apply.js'
import { layoutFor, type Layout } from '../src/layout.js'
import { lastVerifiedRelease, markRelease, passedVerify, writeRelease, type ReleaseMeta } from '../src/releases.js'
import { rollBackPastUnverified, unverifiedServed } from '../src/unverified-release.js'
import { captureLog } from './support/iis-test-log.js'
import { EXAMPLE_APP } from './support/run-action.js'

const APP = { site: 'Default Web Site', appPath: '/app' }
let root: string | undefined
afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true })
  root = undefined
})

function setup(): Layout {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'unverified-'))
  return layoutFor(root)
}

function release(layout: Layout, id: string, minute: number, extra: Partial<ReleaseMeta> = {}): void {
  fs.mkdirSync(layout.releaseDir(id), { recursive: true })
  writeRelease(layout, {
    id,
    createdAt: `2025-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`,
    venvHash: 'v1',
    state: 'staged',
    target: APP,
    ...extra
  })
}

describe('a release that never passed verify', () => {
  it('is one staged without liveAt, or failed; live, or staged after a verified time live, passed', () => {
    expect(passedVerify({ id: 'a', createdAt: '', venvHash: '', state: 'staged' })).toBe(false)
    expect(passedVerify({ id: 'a', createdAt: '', venvHash: '' })).toBe(false)
    expect(passedVerify({ id: 'a', createdAt: '', venvHash: '', state: 'failed', liveAt: '2025-01-01T00:00:00Z' })).toBe(false)
    expect(passedVerify({ id: 'a', createdAt: '', venvHash: '', state: 'live' })).toBe(true)
    expect(passedVerify({ id: 'a', createdAt: '', venvHash: '', state: 'staged', liveAt: '2025-01-01T00:00:00Z' })).toBe(true)
  })

  it('is found where IIS serves it, and only for a release folder of this app that its manifest names', () => {
    const layout = setup()
    release(layout, 'g1', 1)
    markRelease(layout, 'g1', 'live')
    release(layout, 'b1', 2)
    expect(unverifiedServed(layout, layout.releaseDir('b1'), APP)?.id).toBe('b1')
    expect(unverifiedServed(layout, `${layout.releaseDir('b1')}/`, APP)?.id).toBe('b1')
    expect(unverifiedServed(layout, layout.releaseDir('g1'), APP)).toBeUndefined()
    expect(unverifiedServed(layout, undefined, APP)).toBeUndefined()
    expect(unverifiedServed(layout, layout.releaseDir('b1'), { site: 'Default Web Site', appPath: '/other' })).toBeUndefined()
    // A copy of a release folder elsewhere is not the release its manifest names.
    const copy = path.join(root!, 'copy')
    fs.cpSync(layout.releaseDir('b1'), copy, { recursive: true })
    expect(unverifiedServed(layout, copy, APP)).toBeUndefined()
    markRelease(layout, 'b1', 'failed')
    expect(unverifiedServed(layout, layout.releaseDir('b1'), APP)?.id).toBe('b1')
  })

  it('is never the rollback target: the last verified release of this app is, the live one first', () => {
    const layout = setup()
    release(layout, 'g1', 1)
    markRelease(layout, 'g1', 'live', new Date('2025-01-01T01:00:00Z'))
    release(layout, 'g2', 2)
    markRelease(layout, 'g2', 'live', new Date('2025-01-01T02:00:00Z'))
    release(layout, 'b1', 3)
    release(layout, 'f1', 4, { state: 'failed', liveAt: '2025-01-01T03:00:00Z' })
    release(layout, 'other', 5, { state: 'live', liveAt: '2025-01-01T04:00:00Z', target: { site: 'Default Web Site', appPath: '/other' } })
    expect(lastVerifiedRelease(layout, APP, ['b1'])?.id).toBe('g2')
    expect(lastVerifiedRelease(layout, APP, ['b1', 'g2'])?.id).toBe('g1')
    expect(lastVerifiedRelease(layout, APP, ['g1', 'g2'])).toBeUndefined()
  })

  it('without any verified release to go back to, the rollback fails and says why', async () => {
    const layout = setup()
    release(layout, 'b1', 1)
    const config = getInputs(
      name => ({ 'app-dir': EXAMPLE_APP, 'deploy-root': root!, 'app-path': '/app', 'release-id': 'run2' })[name] ?? '',
      {},
      EXAMPLE_APP
    )
    let rolledBack = 0
    const applied = {
      changed: false,
      rollback: async () => {
        rolledBack++
        return { ok: true, restored: [], failed: [] }
      }
    } as unknown as ApplyResult
    const facts = {
      releaseId: 'b1',
      venvHash: 'v1',
      pythonVersion: '3.11',
      pythonHome: root!,
      wsgiApplication: 'hello.wsgi.application',
      staticSettings: { staticUrl: 'static/', forceScriptName: null }
    }
    const rb = await rollBackPastUnverified(
      {
        runner: {
          run: async () => {
            throw new Error('no process may run')
          }
        },
        log: captureLog(),
        appcmdPath: 'appcmd',
        icaclsPath: 'icacls'
      },
      config,
      layout,
      facts,
      { id: 'b1', createdAt: '', venvHash: 'v1' },
      applied
    )
    expect(rb.ok).toBe(false)
    expect(rb.restoredRelease).toBeUndefined()
    expect(rb.failed).toEqual([
      'release b1 was live but never verified (a run was interrupted), and no release of this app ever passed verify: b1 stays live'
    ])
    expect(rolledBack).toBe(1)
  })
})
