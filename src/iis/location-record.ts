import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../render/atomic-write.js'

/**
 * What this tool set at an app's location in applicationHost.config, kept under deploy-root: handlers unlocked,
 * anonymous requests as the pool identity, the httpPlatform variables it owns. The three state reads cannot show
 * these (each would take a fourth read per deploy), and setting them is a write, so a no-op redeploy trusts this
 * record. It is written only after an apply succeeded and put back by a rollback, so it never claims a setting
 * that a restored backup undid.
 */
export const LOCATION_RECORD_FILE = 'iis-state.json'

/** Location settings that are writes to make once: the record says they were made (and not undone since). */
export type LocationFlag = 'handlersUnlocked' | 'anonymousAsPool'

/** What the record knows of one location, for the state read. */
export interface RecordedState {
  handlersUnlocked: boolean
  anonymousAsPool: boolean
  httpPlatformNames: string[]
  /** Windows Authentication as this tool set it at the location (src/plan/auth-ops.ts); absent when not set. */
  windowsAuth?: WindowsAuthRecord
  /** The account and a salted hash of the password this tool last gave the app's pool (src/plan/identity-ops.ts). */
  poolPassword?: PoolPasswordRecord
  /** The FastCGI registration this tool last left for the location (src/iis/fastcgi-record.ts). */
  fastCgi?: FastCgiRecord
  /** The pool whose startMode and the app whose preloadEnabled this tool set for warm-up (src/plan/warm-up-ops.ts). */
  warmUp?: WarmUpRecord
}

/** Present while warm-up is on: what to put back when it is turned off. */
export interface WarmUpRecord {
  pool: string
}

export interface WindowsAuthRecord {
  useAppPoolCredentials: boolean
}

/** Never the password: a salted scrypt hash, so a redeploy can tell "same password" without reading it back. */
export interface PoolPasswordRecord {
  pool: string
  userName: string
  salt: string
  hash: string
}

/** fullPath and arguments as registered; the variables only as a salted scrypt hash (they may hold secrets). */
export interface FastCgiRecord {
  fullPath: string
  arguments: string
  salt: string
  hash: string
}

/** Per-location entries of the record that are replaced whole (src/plan/identity-ops.ts, src/plan/auth-ops.ts). */
type Extras = {
  windowsAuth?: { [location: string]: WindowsAuthRecord }
  poolPassword?: { [location: string]: PoolPasswordRecord }
  fastCgi?: { [location: string]: FastCgiRecord }
  warmUp?: { [location: string]: WarmUpRecord }
}

interface Record {
  handlersUnlocked: string[]
  /** Locations whose anonymous requests we set to run as the app pool identity. */
  anonymousAsPool?: string[]
  /**
   * Per location, the names of the httpPlatform variables we set in applicationHost.config. A read at the app's
   * path shows them merged with the release's web.config, so only these names are ours to change or remove.
   */
  httpPlatformEnv?: { [location: string]: string[] }
  windowsAuth?: Extras['windowsAuth']
  poolPassword?: Extras['poolPassword']
  fastCgi?: Extras['fastCgi']
  warmUp?: Extras['warmUp']
}

export class LocationRecord {
  /** The record as this run has it, with its own changes. */
  private current: string | undefined

  private constructor(
    private readonly file: string,
    /** The file's bytes when read, to put back on rollback; undefined when it did not exist. */
    readonly original: string | undefined
  ) {
    this.current = original
  }

  static read(deployRoot: string): LocationRecord {
    const file = path.join(deployRoot, LOCATION_RECORD_FILE)
    let original: string | undefined
    try {
      original = fs.readFileSync(file, 'utf8')
    } catch {
      original = undefined
    }
    return new LocationRecord(file, original)
  }

  private parsed(): Record {
    try {
      const parsed = JSON.parse(this.current ?? '{}') as Partial<Record>
      const extra = (key: keyof Extras) => (parsed[key] && typeof parsed[key] === 'object' ? { [key]: parsed[key] } : {})
      return {
        ...extra('windowsAuth'),
        ...extra('poolPassword'),
        ...extra('fastCgi'),
        ...extra('warmUp'),
        handlersUnlocked: Array.isArray(parsed.handlersUnlocked) ? parsed.handlersUnlocked : [],
        anonymousAsPool: Array.isArray(parsed.anonymousAsPool) ? parsed.anonymousAsPool : [],
        httpPlatformEnv: parsed.httpPlatformEnv && typeof parsed.httpPlatformEnv === 'object' ? parsed.httpPlatformEnv : {}
      }
    } catch {
      return { handlersUnlocked: [], anonymousAsPool: [], httpPlatformEnv: {} }
    }
  }

  private locations(flag: LocationFlag): string[] {
    return this.parsed()[flag] ?? []
  }

  /** Everything recorded for one location. */
  known(location: string): RecordedState {
    return {
      handlersUnlocked: this.has(location),
      anonymousAsPool: this.has(location, 'anonymousAsPool'),
      httpPlatformNames: this.httpPlatformNames(location),
      ...this.extra('windowsAuth', location),
      ...this.extra('poolPassword', location),
      ...this.extra('fastCgi', location),
      ...this.extra('warmUp', location)
    }
  }

  private extra<K extends keyof Extras>(key: K, location: string): { [P in K]?: NonNullable<Extras[K]>[string] } {
    const byLocation = (this.parsed()[key] ?? {}) as { [location: string]: NonNullable<Extras[K]>[string] }
    const found = Object.keys(byLocation).find(k => k.toLowerCase() === location.toLowerCase())
    return (found ? { [key]: byLocation[found] } : {}) as { [P in K]?: NonNullable<Extras[K]>[string] }
  }

  /** Replaces (or with undefined drops) one per-location entry; no write when nothing changes. */
  setExtra<K extends keyof Extras>(key: K, location: string, value: NonNullable<Extras[K]>[string] | undefined): void {
    const record = this.parsed()
    const byLocation: { [location: string]: unknown } = { ...(record[key] ?? {}) }
    const before = JSON.stringify(byLocation)
    for (const k of Object.keys(byLocation)) if (k.toLowerCase() === location.toLowerCase()) delete byLocation[k]
    if (value !== undefined) byLocation[location] = value
    if (JSON.stringify(byLocation) === before) return
    this.write(`${JSON.stringify({ ...record, [key]: byLocation }, null, 2)}\n`)
  }

  /** The httpPlatform variable names we own at a location. */
  httpPlatformNames(location: string): string[] {
    const byLocation = this.parsed().httpPlatformEnv ?? {}
    const key = Object.keys(byLocation).find(k => k.toLowerCase() === location.toLowerCase())
    return key ? (byLocation[key] ?? []) : []
  }

  setHttpPlatformNames(location: string, names: readonly string[]): void {
    const before = this.httpPlatformNames(location)
    if (before.length === names.length && before.every((n, i) => n === names[i])) return
    const record = this.parsed()
    const byLocation = { ...(record.httpPlatformEnv ?? {}) }
    for (const k of Object.keys(byLocation)) if (k.toLowerCase() === location.toLowerCase()) delete byLocation[k]
    if (names.length > 0) byLocation[location] = [...names]
    this.write(`${JSON.stringify({ ...record, httpPlatformEnv: byLocation }, null, 2)}\n`)
  }

  has(location: string, flag: LocationFlag = 'handlersUnlocked'): boolean {
    return this.locations(flag).some(l => l.toLowerCase() === location.toLowerCase())
  }

  add(location: string, flag: LocationFlag = 'handlersUnlocked'): void {
    if (this.has(location, flag)) return
    const next: Record = { ...this.parsed(), [flag]: [...this.locations(flag), location] }
    this.write(`${JSON.stringify(next, null, 2)}\n`)
  }

  /** Back to what was read. */
  restore(): void {
    if (this.original === undefined) {
      fs.rmSync(this.file, { force: true })
      this.current = undefined
    } else this.write(this.original)
  }

  private write(text: string): void {
    this.current = text
    writeFileAtomic(this.file, text)
  }
}
