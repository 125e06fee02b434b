import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../render/atomic-write.js'

/**
 * Which RequestMap entry this action added to the SP's config, kept under deploy-root (never under a release, so
 * never served). Leaving `auth: shibboleth` removes only what this record names: an entry someone else wrote, or
 * one written before the record existed, is never ours to remove.
 */
export const SP_RECORD_FILE = 'shibboleth-state.json'

/** The outermost element the action inserted: it and everything inside it are ours. */
export type AddedElement = 'RequestMapper' | 'RequestMap' | 'Host' | 'Path'

export interface SpEntry {
  configPath: string
  host: string
  /** The RequestMap Path name (src/shibboleth/patch.ts pathName), '' for the whole host. */
  path: string
  added: AddedElement
}

function sameFile(a: string, b: string): boolean {
  return path.win32.normalize(a).toLowerCase() === path.win32.normalize(b).toLowerCase()
}

export class SpEntryRecord {
  private constructor(
    private readonly file: string,
    /** The bytes read, to put back when the SP change is undone; undefined when there was no file. */
    private readonly original: string | undefined
  ) {}

  static read(deployRoot: string): SpEntryRecord {
    const file = path.join(deployRoot, SP_RECORD_FILE)
    let original: string | undefined
    try {
      original = fs.readFileSync(file, 'utf8')
    } catch {
      original = undefined
    }
    return new SpEntryRecord(file, original)
  }

  private entries(): SpEntry[] {
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { entries?: unknown }
      return Array.isArray(parsed.entries) ? (parsed.entries as SpEntry[]).filter(e => e && typeof e.configPath === 'string') : []
    } catch {
      return []
    }
  }

  /** The entries recorded for one SP config file. */
  entriesFor(configPath: string): SpEntry[] {
    return this.entries().filter(e => sameFile(e.configPath, configPath))
  }

  private save(entries: SpEntry[]): void {
    writeFileAtomic(this.file, `${JSON.stringify({ entries }, null, 2)}\n`)
  }

  /** Records an entry the action just added, replacing an earlier record of the same host and path. */
  add(entry: SpEntry): void {
    this.save([...this.entries().filter(e => !same(e, entry)), entry])
  }

  /** Forgets an entry that is gone from the file. */
  drop(entry: SpEntry): void {
    const rest = this.entries().filter(e => !same(e, entry))
    if (rest.length !== this.entries().length) this.save(rest)
  }

  /** Back to the bytes read, for a rollback of the SP change. */
  restore(): void {
    if (this.original === undefined) fs.rmSync(this.file, { force: true })
    else writeFileAtomic(this.file, this.original)
  }
}

function same(a: SpEntry, b: SpEntry): boolean {
  return sameFile(a.configPath, b.configPath) && a.host.toLowerCase() === b.host.toLowerCase() && a.path === b.path
}
