import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PhaseError } from '../errors.js'
import type { Log } from '../log.js'

export interface LockOwner {
  runId: string
  pid: number
  host: string
  time: string
  target: string
}

export interface TargetLock {
  file: string
  owner: LockOwner
  release(): void
}

export interface LockOptions {
  /** Folder that holds the lock files (deploy-root). */
  dir: string
  site: string
  appPath: string
  runId: string
  timeoutMs: number
  log: Log
  pollMs?: number
}

/** One lock file per target, readable and unique: the site and path slug plus a short hash of the exact pair. */
export function lockFileFor(dir: string, site: string, appPath: string): string {
  const target = `${site}${appPath}`.toLowerCase()
  const slug = target.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'root'
  const hash = crypto.createHash('sha256').update(target).digest('hex').slice(0, 8)
  return path.join(dir, `.deploy-${slug}-${hash}.lock`)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner
  } catch {
    return undefined
  }
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Takes the target's lock: an exclusive create (O_EXCL) of a file naming the holder. Waits up to timeoutMs;
 * a lock left by a dead process of this host is broken with a warning.
 */
export async function acquireLock(options: LockOptions): Promise<TargetLock> {
  const { dir, runId, timeoutMs, log } = options
  const pollMs = options.pollMs ?? 250
  const target = `${options.site}${options.appPath}`
  const file = lockFileFor(dir, options.site, options.appPath)
  fs.mkdirSync(dir, { recursive: true })
  const owner: LockOwner = { runId, pid: process.pid, host: os.hostname(), time: new Date().toISOString(), target }
  const deadline = Date.now() + timeoutMs
  let waitedFor: LockOwner | undefined
  for (;;) {
    try {
      fs.writeFileSync(file, JSON.stringify(owner), { flag: 'wx' })
      if (waitedFor) log.info(`Lock for ${target} taken after waiting for run ${waitedFor.runId}`)
      let released = false
      return {
        file,
        owner,
        release: () => {
          if (released) return
          released = true
          // Only our own lock: a lock broken as stale and retaken by another run is not ours to remove.
          if (readOwner(file)?.runId === runId && readOwner(file)?.pid === process.pid) fs.rmSync(file, { force: true })
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = readOwner(file)
    if (holder && holder.host === os.hostname() && !alive(holder.pid)) {
      log.warning(`Breaking the stale deploy lock of run ${holder.runId} (pid ${holder.pid} on ${holder.host} is gone, locked since ${holder.time})`)
      // Re-read just before removing, so a lock retaken meanwhile by a live run survives.
      const again = readOwner(file)
      if (again && again.pid === holder.pid && again.time === holder.time) fs.rmSync(file, { force: true })
      continue
    }
    if (!waitedFor && holder) {
      waitedFor = holder
      log.info(`Waiting for run ${holder.runId} (pid ${holder.pid} on ${holder.host}, since ${holder.time}) to finish deploying ${target}`)
    }
    if (Date.now() >= deadline) {
      const who = holder ? `run ${holder.runId} (pid ${holder.pid} on ${holder.host}, since ${holder.time})` : 'another run'
      throw new PhaseError(
        'apply',
        `${target} is being deployed by ${who}; gave up after lock-timeout (${Math.round(timeoutMs / 1000)} s)`,
        `wait for that run, raise lock-timeout, or delete ${file} if no deploy is running`
      )
    }
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())))
  }
}
