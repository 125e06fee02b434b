import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { DeployTarget } from '../deploy-root-claim.js'

export type HistoryOutcome = 'deployed' | 'failed-rolled-back' | 'failed' | 'no-op'

/** One line of a target's history file: what one deploy (or rollback) run did. */
export interface HistoryEntry {
  time: string
  mode: string
  target: DeployTarget
  releaseId: string
  outcome: HistoryOutcome
  /** GITHUB_SHA, GITHUB_ACTOR and the workflow run's URL; absent outside Actions. */
  commit?: string
  actor?: string
  runUrl?: string
  /** Whether this run built the release (false: an existing release with the same fingerprint was reused). */
  releaseBuilt: boolean
  /** The IIS objects this run created, changed or removed, e.g. `created APP Site/app`. */
  iisChanges: string[]
  /** The appcmd and icacls writes applied, as `<tool> <verb> <object> <first argument>`; absent before apply ran. */
  iisOperations?: string[]
  /** The release IIS served when the run ended, when known. */
  live?: string
  error?: string
  /** With migrate on: the migrations the run applied, the commands that reverse them, and whether SQLite was restored. */
  migrations?: { applied: string[]; reverse: string[]; restored: boolean }
}

/** One history file per target (site + app path), named like the target's lock file so two apps never share one. */
export function historyFileFor(deployRoot: string, target: DeployTarget): string {
  const name = `${target.site}${target.appPath}`.toLowerCase()
  const slug = name.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'root'
  const hash = crypto.createHash('sha256').update(name).digest('hex').slice(0, 8)
  return path.join(deployRoot, 'history', `${slug}-${hash}.jsonl`)
}

/** Every string of the entry through `redact`, field by field, so masking can never break the JSON around it. */
function redactEntry(entry: HistoryEntry, redact: (text: string) => string): HistoryEntry {
  return JSON.parse(JSON.stringify(entry), (_key, value: unknown) => (typeof value === 'string' ? redact(value) : value)) as HistoryEntry
}

/**
 * Appends one line with a single O_APPEND write and flushes it: a crash can tear only this line, never an earlier
 * one. A line torn by an earlier crash is ended first, so the new entry starts a line of its own.
 */
export function appendHistory(file: string, entry: HistoryEntry, redact: (text: string) => string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  let torn = false
  try {
    const size = fs.statSync(file).size
    if (size > 0) {
      const fd = fs.openSync(file, 'r')
      try {
        const last = Buffer.alloc(1)
        fs.readSync(fd, last, 0, 1, size - 1)
        torn = last[0] !== 0x0a
      } finally {
        fs.closeSync(fd)
      }
    }
  } catch {
    // No file yet: nothing to end.
  }
  const line = `${torn ? '\n' : ''}${JSON.stringify(redactEntry(entry, redact))}\n`
  const fd = fs.openSync(file, 'a')
  try {
    fs.writeSync(fd, line)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

function isEntry(value: unknown): value is HistoryEntry {
  const e = value as HistoryEntry
  return (
    typeof e === 'object' && e !== null && typeof e.time === 'string' && typeof e.releaseId === 'string' && typeof e.outcome === 'string'
  )
}

/** The entries, oldest first; a line that is not a whole entry (a crash mid-write) is skipped with a warning. */
export function readHistory(file: string, warn: (message: string) => void): HistoryEntry[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return []
  }
  const entries: HistoryEntry[] = []
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return
    try {
      const parsed: unknown = JSON.parse(line)
      if (isEntry(parsed)) {
        entries.push(parsed)
        return
      }
    } catch {
      // Reported below.
    }
    warn(`release history ${file}: line ${index + 1} is incomplete (a run stopped while writing it); skipped`)
  })
  return entries
}

/** The release that was live before the newest entries were written: the `live` of the newest entry that knows it. */
export function lastLive(entries: readonly HistoryEntry[]): string | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const live = entries[i]?.live
    if (live) return live
  }
  return undefined
}
