/** The migrations a release would apply, as the stage (or plan mode) found them, and how the run reports them. */
import type { MigrationsAnswer } from './script.js'

export interface PendingMigrations {
  /** The database answered; when false, `reason` says why and `pending` is empty. */
  reachable: boolean
  /** What failed when not reachable: Django itself (not importable here, settings failing) or the database. */
  failed?: 'django' | 'database'
  pending: string[]
  reason?: string
  /** A fact worth a line, e.g. that the SQLite file does not exist yet. */
  note?: string
}

export function pendingFrom(answer: MigrationsAnswer | undefined): PendingMigrations | undefined {
  if (!answer) return undefined
  if (!answer.ok) {
    const last = answer.errors?.[0]
    return { reachable: false, failed: 'django', pending: [], reason: last ? `${last.type}: ${last.message}` : 'the listing failed' }
  }
  if (answer.reachable === false) return { reachable: false, failed: 'database', pending: [], reason: answer.error ?? 'no answer' }
  return { reachable: true, pending: answer.pending ?? [], ...(answer.note ? { note: answer.note } : {}) }
}

/** The line the log, the plan and the summary show; undefined when there is nothing to say. */
export function pendingLine(found: PendingMigrations, migrate: boolean): string | undefined {
  if (!found.reachable) {
    const what = found.failed === 'django' ? 'Django could not start here' : 'the database could not be reached from this machine'
    return `Unapplied migrations not listed: ${what} (${(found.reason ?? 'no answer').trim()}).`
  }
  if (found.pending.length === 0) return undefined
  const list = found.pending.join(', ')
  const note = found.note ? ` (${found.note})` : ''
  return migrate
    ? `${found.pending.length} migration(s) will be applied before the switch${note}: ${list}`
    : `${found.pending.length} unapplied migration(s)${note}; the new code goes live without them (set migrate: true, or run manage.py migrate): ${list}`
}
