import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { findReleaseByFingerprint, requirementsClosure } from '../src/stage.js'

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
    const releases = fs.mkdtempSync(path.join(tmp, 'rel-'))
    const manifest = (dir: string, id: string, fingerprint: string): void => {
      fs.mkdirSync(path.join(releases, dir), { recursive: true })
      fs.writeFileSync(path.join(releases, dir, 'release.json'), JSON.stringify({ id, fingerprint }))
    }
    manifest('r1', 'r1', 'aaa')
    manifest('copied', 'r1', 'bbb')
    fs.mkdirSync(path.join(releases, 'incomplete'))
    expect(findReleaseByFingerprint(releases, 'aaa')?.id).toBe('r1')
    expect(findReleaseByFingerprint(releases, 'bbb')).toBeUndefined()
    expect(findReleaseByFingerprint(path.join(releases, 'none'), 'aaa')).toBeUndefined()
  })
})
