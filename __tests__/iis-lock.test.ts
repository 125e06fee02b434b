import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { acquireLock, lockFileFor } from '../src/iis/lock.js'
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
const base = (dir: string, runId: string, timeoutMs = 5000) => ({ dir, site: 'Default Web Site', appPath: '/app', runId, timeoutMs, log: captureLog(), pollMs: 20 })

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
    expect((err as PhaseError).message).toMatch(/Default Web Site\/app is being deployed by run run-1 \(pid \d+ on .+\); gave up after lock-timeout/)
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
    const options = base(dir, 'run-2', 1000)
    const lock = await acquireLock(options)
    expect(options.log.lines.some(l => l.startsWith('warning: Breaking the stale deploy lock of run crashed'))).toBe(true)
    lock.release()
  })

  it('does not break a lock held on another host', async () => {
    const dir = tempDir()
    const file = lockFileFor(dir, 'Default Web Site', '/app')
    fs.writeFileSync(file, JSON.stringify({ runId: 'remote', pid: deadPid(), host: 'another-host', time: '2020-01-01T00:00:00.000Z', target: 'x' }))
    await expect(acquireLock(base(dir, 'run-2', 100))).rejects.toThrow(/run remote/)
    expect(fs.existsSync(file)).toBe(true)
  })
})
