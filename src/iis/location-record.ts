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
      return {
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
      httpPlatformNames: this.httpPlatformNames(location)
    }
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
