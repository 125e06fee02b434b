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
  /** Unique per acquisition: the file's text is this run's and no other's. */
  token?: string
}

export interface TargetLock {
  file: string
  owner: LockOwner
  release(): void
}

export interface LockOptions {
  /** Folder that holds the lock files (deploy-root, or lock-dir for the server's). */
  dir: string
  site: string
  appPath: string
  runId: string
  timeoutMs: number
  log: Log
  pollMs?: number
  /** How long a lock file may stay empty or unparseable (its writer died between create and write) before it is broken. */
  staleGraceMs?: number
}

/** One create-and-write takes microseconds: a lock file still empty after this long lost its writer. */
export const STALE_GRACE_MS = 10_000

export { defaultServerLockDir } from '../inputs/server-lock-dir.js'

/** One lock file per target, readable and unique: the site and path slug plus a short hash of the exact pair. */
export function lockFileFor(dir: string, site: string, appPath: string): string {
  const target = `${site}${appPath}`.toLowerCase()
  const slug = target.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'root'
  const hash = crypto.createHash('sha256').update(target).digest('hex').slice(0, 8)
  return path.join(dir, `.deploy-${slug}-${hash}.lock`)
}

/** Whether a process of this host still runs (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** One look at a lock (or marker) file: its text and the identity of this very file (a new file is another generation). */
interface Seen {
  text: string
  owner?: LockOwner
  generation: string
  ageMs: number
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(text) as LockOwner
    return typeof owner?.pid === 'number' && typeof owner.host === 'string' ? owner : undefined
  } catch {
    return undefined
  }
}

/** undefined: no such file. A file that changes while it is read is reported as not seen yet (`busy`). */
function look(file: string): Seen | 'busy' | undefined {
  try {
    const before = fs.statSync(file, { bigint: true })
    const text = fs.readFileSync(file, 'utf8')
    const after = fs.statSync(file, { bigint: true })
    const id = (s: fs.BigIntStats) => `${s.ino}:${s.mtimeNs}:${s.size}`
    if (id(before) !== id(after)) return 'busy'
    const generation = crypto
      .createHash('sha256')
      .update(`${id(after)}\n${text}`)
      .digest('hex')
      .slice(0, 16)
    return { text, owner: parseOwner(text), generation, ageMs: Date.now() - Number(after.mtimeMs) }
  } catch (err) {
    // Windows refuses to open a file that is being deleted (EPERM): treat it like one being written.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'busy'
  }
}

/** Why a file seen may be broken, or undefined while its writer may still be alive. */
function staleReason(seen: Seen, graceMs: number): string | undefined {
  const { owner } = seen
  if (owner) {
    if (owner.host !== os.hostname() || processAlive(owner.pid)) return undefined
    return `run ${owner.runId} (pid ${owner.pid} on ${owner.host} is gone, locked since ${owner.time})`
  }
  if (seen.ageMs <= graceMs) return undefined
  return `a lock file left ${seen.text.trim() === '' ? 'empty' : 'unreadable'} for ${Math.round(seen.ageMs / 1000)} s by a run that died while taking it`
}

/**
 * Exclusive create of a file holding `text`. false: the name is taken. On Windows a name whose file is still
 * being deleted refuses a new create with EPERM/EACCES (docs/windows-facts.md, lk-delete-pending): that error is returned, as
 * "taken for now", and the caller gives up only when it lasts.
 */
function createExclusive(file: string, text: string): boolean | NodeJS.ErrnoException {
  try {
    fs.writeFileSync(file, text, { flag: 'wx' })
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (process.platform === 'win32' && (code === 'EPERM' || code === 'EACCES' || code === 'EBUSY')) return err as NodeJS.ErrnoException
    throw err
  }
}

function removeIfText(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === text) fs.rmSync(file, { force: true })
  } catch {
    // Gone already, or unreadable: nothing of ours to remove.
  }
}

function markerName(file: string, seen: Seen): string {
  return `${file}.break-${seen.generation}`
}

/** The marker a run breaking the file as it is now would create (for tests of a breaker that died holding it). */
export function breakMarkerOf(file: string): string | undefined {
  const seen = look(file)
  return seen && seen !== 'busy' ? markerName(file, seen) : undefined
}

/**
 * Removes `file` if it is still the stale generation `seen`. "Read, compare, remove" is not atomic, so the right to
 * remove one generation is itself an exclusive create: a marker file named after that generation. Only the
 * marker's holder removes, and it removes only after seeing the same generation again, which a live run's fresh
 * lock never is. A marker left by a breaker that died is broken the same way, one level up. True when removed.
 */
function breakStale(file: string, seen: Seen, self: string, graceMs: number, depth = 0): boolean {
  const marker = markerName(file, seen)
  if (createExclusive(marker, self) !== true) {
    const other = look(marker)
    if (depth < 3 && other && other !== 'busy' && staleReason(other, graceMs)) breakStale(marker, other, self, graceMs, depth + 1)
    return false
  }
  try {
    const now = look(file)
    if (now === undefined || now === 'busy' || now.generation !== seen.generation) return false
    fs.rmSync(file, { force: true })
    return true
  } finally {
    removeIfText(marker, self)
  }
}

/** Markers of generations long gone, left by breakers that died; harmless, but litter. */
function sweepMarkers(file: string, graceMs: number): void {
  const prefix = `${path.basename(file)}.break-`
  let names: string[] = []
  try {
    names = fs.readdirSync(path.dirname(file)).filter(n => n.startsWith(prefix))
  } catch {
    return
  }
  for (const name of names) {
    const marker = path.join(path.dirname(file), name)
    const seen = look(marker)
    if (seen && seen !== 'busy' && seen.ageMs > graceMs && staleReason(seen, graceMs)) removeIfText(marker, seen.text)
  }
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Takes the target's lock: an exclusive create (O_EXCL) of a file naming the holder. Waits up to timeoutMs; a lock
 * left by a dead process of this host, or left empty or unparseable for longer than the grace, is broken with a
 * warning (see breakStale for how two runs breaking it at once stay safe).
 */
export async function acquireLock(options: LockOptions): Promise<TargetLock> {
  const { dir, runId, timeoutMs, log } = options
  const pollMs = options.pollMs ?? 250
  const graceMs = options.staleGraceMs ?? STALE_GRACE_MS
  const target = `${options.site}${options.appPath}`
  const file = lockFileFor(dir, options.site, options.appPath)
  fs.mkdirSync(dir, { recursive: true })
  const owner: LockOwner = {
    runId,
    pid: process.pid,
    host: os.hostname(),
    time: new Date().toISOString(),
    target,
    token: crypto.randomUUID()
  }
  const self = JSON.stringify(owner)
  const deadline = Date.now() + timeoutMs
  let waitedFor: LockOwner | undefined
  const warned = new Set<string>()
  const held = (): TargetLock => {
    if (waitedFor) log.info(`Lock for ${target} taken after waiting for run ${waitedFor.runId}`)
    let released = false
    return {
      file,
      owner,
      release: () => {
        if (released) return
        released = true
        // Only our own lock: a lock broken as stale and retaken by another run is not ours to remove.
        removeIfText(file, self)
        sweepMarkers(file, graceMs)
      }
    }
  }
  let refusedSince: number | undefined
  for (;;) {
    const created = createExclusive(file, self)
    if (created instanceof Error) {
      refusedSince ??= Date.now()
      // Longer than a deletion takes: the folder refuses us (permissions), not a file on its way out.
      if (Date.now() - refusedSince > graceMs) throw created
    } else refusedSince = undefined
    // Read back rather than trust the create: a breaker that took our file for an abandoned empty one removed it.
    const seen = look(file)
    if (seen === undefined && !(created instanceof Error)) continue
    if (seen !== 'busy' && seen !== undefined && seen.text === self) return held()
    const holder = seen === 'busy' || seen === undefined ? undefined : seen.owner
    const stale = seen === 'busy' || seen === undefined ? undefined : staleReason(seen, graceMs)
    if (seen !== 'busy' && seen !== undefined && stale) {
      if (!warned.has(seen.generation)) log.warning(`Breaking the stale deploy lock of ${stale}`)
      warned.add(seen.generation)
      if (breakStale(file, seen, self, graceMs)) continue
    } else if (!waitedFor && holder) {
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
