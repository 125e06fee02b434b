/**
 * The database is not part of a release: a rollback puts back code and IIS settings, never the schema. Each
 * release records whether its deploy applied migrations (migrationsApplied in release.json); where any release
 * that went live after the target says so, or does not say, the run warns.
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

/** The warning a rollback to `chosen` gives about the database; undefined when every later release says it migrated nothing. */
export function migrationWarning(layout: Layout, target: DeployTarget, chosen: ReleaseMeta): string | undefined {
  const later = wentLiveSince(layout, target, chosen)
  const migrated = later.filter(r => r.migrationsApplied === true).map(r => r.id)
  const unknown = later.filter(r => r.migrationsApplied === undefined).map(r => r.id)
  const consequence = `release ${chosen.id}'s code now runs against that schema; check it works, or restore the database yourself`
  if (migrated.length > 0) {
    return `release record: migrations were applied after release ${chosen.id} (by ${migrated.join(', ')}); the database schema is not rolled back: ${consequence}`
  }
  if (unknown.length > 0) {
    return `the database schema is not rolled back: the records of ${unknown.join(', ')} (live after ${chosen.id}) do not say whether migrations were applied (this action does not run them); if a migration ran since, ${consequence}`
  }
  return undefined
}
