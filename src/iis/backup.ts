import fs from 'node:fs'
import path from 'node:path'
import { asError } from '../errors.js'
import { writeFileAtomic } from '../render/atomic-write.js'
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

/**
 * Our backups on the server, as the last listing found them plus the ones added since: kept beside the server lock,
 * since the backups are the server's and every deploy that prunes them holds that lock.
 */
export function backupRecordFile(lockDir: string): string {
  return path.join(lockDir, 'backups.json')
}

/** The record file and the backup this run just added. */
export interface BackupRecord {
  file: string
  added: string
}

/** Our backups as the record names them, newest first; undefined without a usable record (list them instead). */
export function readBackupRecord(file: string): string[] | undefined {
  try {
    const ours = (JSON.parse(fs.readFileSync(file, 'utf8')) as { ours?: unknown }).ours
    return Array.isArray(ours) && ours.every(n => typeof n === 'string' && stampOf(n)) ? (ours as string[]) : undefined
  } catch {
    return undefined
  }
}

export function writeBackupRecord(file: string, ours: readonly string[], log: Log): void {
  try {
    writeFileAtomic(file, `${JSON.stringify({ ours })}\n`)
  } catch (err) {
    // Without the record the next run lists the backups again: slower, never wrong.
    log.warning(`Could not record the IIS backups in ${file}: ${asError(err).message}`)
  }
}

export const newestFirst = (names: readonly string[]): string[] =>
  names
    .map(name => ({ name, stamp: stampOf(name) }))
    .filter((b): b is { name: string; stamp: string } => b.stamp !== undefined)
    .sort((a, b) => b.stamp.localeCompare(a.stamp))
    .map(b => b.name)

/**
 * Deletes our backups beyond the newest `keep`; others' backups are never touched. With a record of ours, appcmd
 * is called only when they exceed `keep` (a delete each, no listing); without one (first run, damaged, or a delete
 * that failed last time) the backups are listed.
 */
export async function pruneBackups(appcmd: Appcmd, keep: number, log: Log, record?: BackupRecord): Promise<string[]> {
  const known = record ? readBackupRecord(record.file) : undefined
  let ours: string[]
  if (record && known) {
    ours = newestFirst([record.added, ...known.filter(n => n !== record.added)])
  } else {
    try {
      ours = newestFirst(parseBackups(await listBackups(appcmd)))
    } catch (err) {
      log.warning(`Could not list IIS backups to prune old ones: ${asError(err).message}`)
      return []
    }
  }
  const removed: string[] = []
  let failed = false
  for (const old of ours.slice(Math.max(keep, 1))) {
    try {
      await appcmd.run({ argv: ['delete', 'backup', old], mutates: true })
      removed.push(old)
    } catch (err) {
      failed = true
      // Housekeeping: an old backup left behind must not fail a deploy that already succeeded.
      log.warning(`Could not delete old IIS backup ${old}: ${asError(err).message}`)
    }
  }
  if (record) {
    // After a failed delete the record may be wrong: the next run lists the backups instead.
    if (failed) fs.rmSync(record.file, { force: true })
    else writeBackupRecord(record.file, ours.slice(0, Math.max(keep, 1)), log)
  }
  return removed
}
