import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { layoutFor } from '../src/layout.js'
import { findReleaseByFingerprint } from '../src/releases.js'
import { requirementsClosure } from '../src/stage.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stage-units-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('requirementsClosure', () => {
  it('follows -r and -c includes, once each, so a change in any of them changes the venv hash', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'req-'))
    fs.mkdirSync(path.join(dir, 'reqs'))
    fs.writeFileSync(path.join(dir, 'requirements.txt'), '-r reqs/base.txt\n--constraint=reqs/pins.txt\nDjango>=3.2\n')
    fs.writeFileSync(path.join(dir, 'reqs', 'base.txt'), 'requests\n-r ../requirements.txt\n')
    fs.writeFileSync(path.join(dir, 'reqs', 'pins.txt'), 'requests==2.31.0\n')
    const before = requirementsClosure(path.join(dir, 'requirements.txt'))
    expect(before).toContain('requests==2.31.0')
    expect(before.match(/Django>=3.2/g)).toHaveLength(1)
    fs.writeFileSync(path.join(dir, 'reqs', 'pins.txt'), 'requests==2.32.0\n')
    expect(requirementsClosure(path.join(dir, 'requirements.txt'))).not.toBe(before)
  })

  it('leaves a missing include for pip to report', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'req-'))
    fs.writeFileSync(path.join(dir, 'requirements.txt'), '-r missing.txt\n')
    expect(requirementsClosure(path.join(dir, 'requirements.txt'))).toContain('-r missing.txt')
  })
})

describe('findReleaseByFingerprint', () => {
  it('finds only complete releases whose manifest names their own folder', () => {
    const root = fs.mkdtempSync(path.join(tmp, 'rel-'))
    const layout = layoutFor(root)
    const manifest = (dir: string, id: string, fingerprint: string): void => {
      fs.mkdirSync(path.join(layout.releasesDir, dir), { recursive: true })
      fs.writeFileSync(
        path.join(layout.releasesDir, dir, 'release.json'),
        JSON.stringify({ id, fingerprint, createdAt: '2026-01-01T00:00:00Z', venvHash: 'v' })
      )
    }
    manifest('r1', 'r1', 'aaa')
    manifest('copied', 'r1', 'bbb')
    manifest('.staging-r2-1', '.staging-r2-1', 'ccc')
    fs.mkdirSync(path.join(layout.releasesDir, 'incomplete'))
    expect(findReleaseByFingerprint(layout, 'aaa')?.id).toBe('r1')
    expect(findReleaseByFingerprint(layout, 'bbb')).toBeUndefined()
    expect(findReleaseByFingerprint(layout, 'ccc')).toBeUndefined()
    expect(findReleaseByFingerprint(layoutFor(path.join(root, 'none')), 'aaa')).toBeUndefined()
  })
})
