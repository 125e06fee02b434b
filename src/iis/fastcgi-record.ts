import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { Log } from '../log.js'
import type { DesiredState } from '../plan/types.js'
import { samePath } from '../windows-path.js'
import { locationPath, sameName } from './app-location.js'
import type { Appcmd } from './appcmd.js'
import type { FastCgiRecord, LocationRecord } from './location-record.js'
import { parseFastCgi, readFastCgiSection, type CurrentState } from './state.js'

/**
 * The FastCGI registration this tool last left in place for a location, kept in the deploy-root record so that a
 * code change (same venv, same variables) need not read the server-wide fastCgi section, which lists every FastCGI
 * application of the server (docs/iis-apply.md, "Fewer appcmd calls"). The variables may hold secrets: the record
 * keeps a salted scrypt hash of them, never a value.
 */

type Wanted = NonNullable<DesiredState['fastCgi']>

const hashes = new Map<string, Promise<Buffer>>()

/**
 * Names folded (IIS compares them without regard to case), sorted: the order of the variables changes nothing.
 * scrypt runs on libuv's thread pool, and each result is kept for the run: the stage starts the hash while Python
 * checks the release, and the match before the apply and the record after it reuse it (about 80 ms of CPU each on
 * the bench machine, npm run bench).
 */
function hashEnv(env: Wanted['env'], salt: string): Promise<Buffer> {
  const canonical = JSON.stringify(env.map(v => [v.name.toLowerCase(), v.value]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
  const key = `${salt}:${canonical}`
  let hash = hashes.get(key)
  if (!hash) {
    hash = new Promise((resolve, reject) =>
      scrypt(canonical, Buffer.from(salt, 'hex'), 32, (err, derived) => (err ? reject(err) : resolve(derived)))
    )
    hashes.set(key, hash)
  }
  return hash
}

/** Starts hashing `env` with the record's salt, so that matchesRecord later finds the hash made. */
export function startRecordHash(record: FastCgiRecord | undefined, env: Wanted['env']): void {
  if (record) hashEnv(env, record.salt).catch(() => undefined)
}

/** Whether the record says the registration `wanted` describes (path, arguments and variables) is what we left. */
export async function matchesRecord(record: FastCgiRecord | undefined, wanted: Wanted | undefined): Promise<boolean> {
  if (!record || !wanted) return false
  if (!samePath(record.fullPath, wanted.fullPath) || !sameName(record.arguments, wanted.arguments)) return false
  const want = Buffer.from(record.hash, 'hex')
  const got = await hashEnv(wanted.env, record.salt)
  return want.length === got.length && timingSafeEqual(want, got)
}

/** After an apply succeeded: the registration it left (the existing entry when unchanged), none for httpplatform. */
export async function rememberFastCgi(record: LocationRecord, desired: DesiredState, before: CurrentState): Promise<void> {
  const wanted = desired.hosting === 'fastcgi' ? desired.fastCgi : undefined
  let entry: FastCgiRecord | undefined
  if (wanted) {
    const existing = before.fastCgiRecord
    if (await matchesRecord(existing, wanted)) entry = existing
    else {
      const salt = randomBytes(16).toString('hex')
      entry = { fullPath: wanted.fullPath, arguments: wanted.arguments, salt, hash: (await hashEnv(wanted.env, salt)).toString('hex') }
    }
  }
  record.setExtra('fastCgi', locationPath(desired.app), entry)
}

/** After a rollback: the next run reads the section again, whatever drift made this one fail. */
export function forgetFastCgi(record: LocationRecord, desired: DesiredState): void {
  record.setExtra('fastCgi', locationPath(desired.app), undefined)
}

/**
 * Completes a state read whose fastCgi section was deferred (readState with deferFastCgi). The record answers for
 * a new release whose registration is the one recorded; anything else reads the section: another venv or other
 * variables (the diff needs what is there), no record, and a reused release (a no-op re-run is the drift check:
 * a registration changed by hand is seen and repaired there). `section` is that read when the caller started it
 * already.
 */
export async function settleFastCgi(
  appcmd: Appcmd,
  log: Log,
  current: CurrentState,
  desired: DesiredState,
  releaseReused: boolean,
  section?: Promise<string>
): Promise<CurrentState> {
  if (!current.fastCgiDeferred) return current
  const state: CurrentState = { ...current }
  delete state.fastCgiDeferred
  const wanted = desired.hosting === 'fastcgi' ? desired.fastCgi : undefined
  if (!releaseReused && wanted && (await matchesRecord(current.fastCgiRecord, wanted))) {
    log.info('FastCGI registration: the one recorded in deploy-root (same venv and variables); the fastCgi section is not read')
    return {
      ...state,
      fastCgi: [{ fullPath: wanted.fullPath, arguments: wanted.arguments, env: wanted.env.map(v => ({ name: v.name, value: v.value })) }]
    }
  }
  return { ...state, fastCgi: parseFastCgi(await (section ?? readFastCgiSection(appcmd))) }
}
