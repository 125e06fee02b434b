import { asError } from '../errors.js'
import type { Log } from '../log.js'
import type { Appcmd } from './appcmd.js'

export const BACKUP_PREFIX = 'django-iis-deploy-'

/** 20250131T235959123Z: sorts as text in time order and needs no quoting. */
function stamp(now: Date): string {
  return now.toISOString().replace(/[-:.]/g, '')
}

export function backupName(releaseId: string, now = new Date()): string {
  return `${BACKUP_PREFIX}${releaseId}-${stamp(now)}`
}

/** The time stamp our names end with; undefined for backups that are not ours. */
function stampOf(name: string): string | undefined {
  if (!name.toLowerCase().startsWith(BACKUP_PREFIX)) return undefined
  return /-(\d{8}T\d{9}Z)$/.exec(name)?.[1]
}

/** `list backups` prints `BACKUP "NAME"` a line. */
export function parseBackups(stdout: string): string[] {
  return [...stdout.matchAll(/^BACKUP "([^"]*)"/gm)].map(m => m[1] ?? '')
}

export async function addBackup(appcmd: Appcmd, releaseId: string, now = new Date()): Promise<string> {
  const name = backupName(releaseId, now)
  await appcmd.run({ argv: ['add', 'backup', name], mutates: true })
  return name
}

export async function restoreBackup(appcmd: Appcmd, name: string): Promise<void> {
  await appcmd.run({ argv: ['restore', 'backup', name], mutates: true })
}

/** No backups at all is an empty list, in whichever form appcmd answers a list that matched nothing. */
async function listBackups(appcmd: Appcmd): Promise<string> {
  return (await appcmd.list('list', 'backups')) ?? ''
}

/** Deletes our backups beyond the newest `keep`; others' backups are never touched. */
export async function pruneBackups(appcmd: Appcmd, keep: number, log: Log): Promise<string[]> {
  let listed: string
  try {
    listed = await listBackups(appcmd)
  } catch (err) {
    log.warning(`Could not list IIS backups to prune old ones: ${asError(err).message}`)
    return []
  }
  const ours = parseBackups(listed)
    .map(name => ({ name, stamp: stampOf(name) }))
    .filter((b): b is { name: string; stamp: string } => b.stamp !== undefined)
    .sort((a, b) => b.stamp.localeCompare(a.stamp))
  const removed: string[] = []
  for (const old of ours.slice(Math.max(keep, 1))) {
    try {
      await appcmd.run({ argv: ['delete', 'backup', old.name], mutates: true })
      removed.push(old.name)
    } catch (err) {
      // Housekeeping: an old backup left behind must not fail a deploy that already succeeded.
      log.warning(`Could not delete old IIS backup ${old.name}: ${asError(err).message}`)
    }
  }
  return removed
}
