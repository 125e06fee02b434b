import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { acquireLock, breakMarkerOf, lockFileFor } from '../src/iis/lock.js'
import { captureLog } from './support/iis-test-log.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-'))
  dirs.push(d)
  return d
}
// Where a test expects the lock, its timeout is generous (a stale lock breaks at once); where it expects a timeout,
// the holder never lets go, so a small one fails the same way under any load.
const base = (dir: string, runId: string, timeoutMs = 30_000) => ({
  dir,
  site: 'Default Web Site',
  appPath: '/app',
  runId,
  timeoutMs,
  log: captureLog(),
  pollMs: 20
})

/** A file whose modification time is `ageMs` in the past, as one left by a run that died that long ago. */
function writeAged(file: string, text: string, ageMs: number): void {
  fs.writeFileSync(file, text)
  const when = new Date(Date.now() - ageMs)
  fs.utimesSync(file, when, when)
}

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(child.stdout)
}

describe('target lock', () => {
  it('names one file per target, case-insensitively, different for another app path', () => {
    expect(lockFileFor('/d', 'Default Web Site', '/app')).toBe(lockFileFor('/d', 'default web site', '/APP'))
    expect(lockFileFor('/d', 'Default Web Site', '/app')).not.toBe(lockFileFor('/d', 'Default Web Site', '/app2'))
    expect(path.basename(lockFileFor('/d', 'Default Web Site', '/app'))).toMatch(/^\.deploy-default-web-site-app-[0-9a-f]{8}\.lock$/)
  })

  it('records the holder and removes the file on release', async () => {
    const dir = tempDir()
    const lock = await acquireLock(base(dir, 'run-1'))
    const held = JSON.parse(fs.readFileSync(lock.file, 'utf8')) as Record<string, unknown>
    expect(held).toMatchObject({ runId: 'run-1', pid: process.pid, host: os.hostname(), target: 'Default Web Site/app' })
    lock.release()
    expect(fs.existsSync(lock.file)).toBe(false)
  })

  it('makes a second run wait for the first', async () => {
    const dir = tempDir()
    const first = await acquireLock(base(dir, 'run-1'))
    const order: string[] = []
    const second = acquireLock(base(dir, 'run-2')).then(l => {
      order.push('second acquired')
      return l
    })
    await new Promise(resolve => setTimeout(resolve, 100))
    order.push('first releases')
    first.release()
    const lock2 = await second
    expect(order).toEqual(['first releases', 'second acquired'])
    expect(JSON.parse(fs.readFileSync(lock2.file, 'utf8'))).toMatchObject({ runId: 'run-2' })
    lock2.release()
  })

  it('fails clearly, naming lock-timeout and the holder, when the holder does not finish', async () => {
    const dir = tempDir()
    const first = await acquireLock(base(dir, 'run-1'))
    const err = await acquireLock(base(dir, 'run-2', 150)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PhaseError)
    expect((err as PhaseError).message).toMatch(
      /Default Web Site\/app is being deployed by run run-1 \(pid \d+ on .+\); gave up after lock-timeout/
    )
    expect((err as PhaseError).hint).toContain(first.file)
    // The holder's lock is untouched.
    expect(JSON.parse(fs.readFileSync(first.file, 'utf8'))).toMatchObject({ runId: 'run-1' })
    first.release()
  })

  it('breaks a stale lock of a dead process on this host, with a warning', async () => {
    const dir = tempDir()
    const file = lockFileFor(dir, 'Default Web Site', '/app')
    const pid = deadPid()
    fs.writeFileSync(file, JSON.stringify({ runId: 'crashed', pid, host: os.hostname(), time: '2020-01-01T00:00:00.000Z', target: 'x' }))
    const options = base(dir, 'run-2', 30_000)
    const lock = await acquireLock(options)
    expect(options.log.lines.some(l => l.startsWith('warning: Breaking the stale deploy lock of run crashed'))).toBe(true)
    lock.release()
  })

  it('does not break a lock held on another host', async () => {
    const dir = tempDir()
    const file = lockFileFor(dir, 'Default Web Site', '/app')
    fs.writeFileSync(
      file,
      JSON.stringify({ runId: 'remote', pid: deadPid(), host: 'another-host', time: '2020-01-01T00:00:00.000Z', target: 'x' })
    )
    await expect(acquireLock(base(dir, 'run-2', 100))).rejects.toThrow(/run remote/)
    expect(fs.existsSync(file)).toBe(true)
  })

  it('breaks a lock file left empty longer than the grace (its writer died between create and write)', async () => {
    const dir = tempDir()
    writeAged(lockFileFor(dir, 'Default Web Site', '/app'), '', 60_000)
    const options = { ...base(dir, 'run-2', 30_000), staleGraceMs: 10_000 }
    const lock = await acquireLock(options)
    expect(options.log.lines.some(l => /^warning: Breaking the stale deploy lock of a lock file left empty for 60 s/.test(l))).toBe(true)
    expect(JSON.parse(fs.readFileSync(lock.file, 'utf8'))).toMatchObject({ runId: 'run-2' })
    lock.release()
  })

  it('breaks an unparseable lock file older than the grace, and only then', async () => {
    const dir = tempDir()
    const file = lockFileFor(dir, 'Default Web Site', '/app')
    writeAged(file, '{"runId":"half', 60_000)
    const options = { ...base(dir, 'run-2', 30_000), staleGraceMs: 10_000 }
    const lock = await acquireLock(options)
    expect(options.log.lines.some(l => l.includes('a lock file left unreadable for 60 s'))).toBe(true)
    lock.release()
  })

  it('waits for a lock file that is empty but young: its writer may be about to write', async () => {
    const dir = tempDir()
    const file = lockFileFor(dir, 'Default Web Site', '/app')
    fs.writeFileSync(file, '')
    await expect(acquireLock({ ...base(dir, 'run-2', 200), staleGraceMs: 10_000 })).rejects.toThrow(
      /being deployed by another run; gave up after lock-timeout/
    )
    expect(fs.readFileSync(file, 'utf8')).toBe('')
  })

  it('breaks a stale lock even when a breaker died holding the right to break it', async () => {
    const dir = tempDir()
    const file = lockFileFor(dir, 'Default Web Site', '/app')
    writeAged(
      file,
      JSON.stringify({ runId: 'crashed', pid: deadPid(), host: os.hostname(), time: '2020-01-01T00:00:00.000Z', target: 'x' }),
      60_000
    )
    const marker = breakMarkerOf(file)!
    writeAged(
      marker,
      JSON.stringify({ runId: 'breaker', pid: deadPid(), host: os.hostname(), time: '2020-01-01T00:00:00.000Z', target: 'x' }),
      60_000
    )
    const lock = await acquireLock({ ...base(dir, 'run-2', 30_000), staleGraceMs: 10_000 })
    expect(JSON.parse(fs.readFileSync(lock.file, 'utf8'))).toMatchObject({ runId: 'run-2' })
    lock.release()
    // Nothing of the breaking is left beside the lock.
    expect(fs.readdirSync(dir)).toEqual([])
  })

  it('does not remove a lock that another run took after this run read it', async () => {
    const dir = tempDir()
    const first = await acquireLock(base(dir, 'run-1'))
    // Overwrite it as if run-1 lost it to run-3: run-1's release must leave run-3's lock alone.
    const other = JSON.stringify({
      runId: 'run-3',
      pid: process.pid,
      host: os.hostname(),
      time: new Date().toISOString(),
      target: 'x',
      token: 'other'
    })
    fs.writeFileSync(first.file, other)
    first.release()
    expect(fs.readFileSync(first.file, 'utf8')).toBe(other)
  })
})
