/**
 * The database is not part of a release: a rollback puts back code and IIS settings, never the schema. A deploy with
 * the migrate input records in release.json whether it applied migrations, what reverses them and the SQLite copy
 * it took first (src/flow/database-steps.ts); where any release that went live after the target says it applied
 * some, or does not say, the run warns, with those commands and copies.
 */
import { sameTarget, type DeployTarget } from '../deploy-root-claim.js'
import type { Layout } from '../layout.js'
import { listReleases, type ReleaseMeta } from '../releases.js'

/** Releases of the app that went live after `chosen` did (by liveAt), oldest first. */
function wentLiveSince(layout: Layout, target: DeployTarget, chosen: ReleaseMeta): ReleaseMeta[] {
  const since = chosen.liveAt ?? chosen.createdAt
  return listReleases(layout)
    .filter(r => r.id !== chosen.id && (!r.target || sameTarget(r.target, target)) && (r.liveAt ?? '') > since)
    .sort((a, b) => (a.liveAt ?? '').localeCompare(b.liveAt ?? ''))
}

/** The commands the records list, newest release first (reversing in that order), and the SQLite copies. */
function howToUndo(later: readonly ReleaseMeta[]): string {
  const newestFirst = [...later].reverse().filter(r => r.migrationsApplied === true && r.migrations)
  const commands = newestFirst.flatMap(r => r.migrations?.reverse ?? [])
  const copies = newestFirst.flatMap(r => (r.migrations?.sqliteBackup ? [`${r.id}: ${r.migrations.sqliteBackup.backup}`] : []))
  const parts = [
    ...(commands.length > 0 ? [`to reverse them (with this release's code, in this order): ${commands.join('; ')}`] : []),
    ...(copies.length > 0 ? [`the SQLite database as it was before each of those deploys migrated: ${copies.join(', ')}`] : [])
  ]
  return parts.length > 0 ? `. ${parts.join('. ')}` : ''
}

/** The warning a rollback to `chosen` gives about the database; undefined when every later release says it migrated nothing. */
export function migrationWarning(layout: Layout, target: DeployTarget, chosen: ReleaseMeta): string | undefined {
  const later = wentLiveSince(layout, target, chosen)
  const migrated = later.filter(r => r.migrationsApplied === true).map(r => r.id)
  const unknown = later.filter(r => r.migrationsApplied === undefined).map(r => r.id)
  const consequence = `release ${chosen.id}'s code now runs against that schema; check it works, or restore the database yourself`
  if (migrated.length > 0) {
    return `release record: migrations were applied after release ${chosen.id} (by ${migrated.join(', ')}); the database schema is not rolled back: ${consequence}${howToUndo(later)}`
  }
  if (unknown.length > 0) {
    return `the database schema is not rolled back: the records of ${unknown.join(', ')} (live after ${chosen.id}) do not say whether migrations were applied (they were deployed without the migrate input); if a migration ran since, ${consequence}`
  }
  return undefined
}
