/**
 * The run's IIS backup taken beside the release check (docs/iis-apply.md, "The restore point beside the check"):
 * once the stage knows it builds a new release, a deploy will switch to it, so the backup the plan starts with is
 * taken while Python checks the release instead of after it. The plan names it and apply's backup step waits for
 * it; a run that stops before apply used it deletes it again, so IIS keeps no trace of a run that changed nothing.
 */
import { asError } from '../errors.js'
import { deferredLog } from '../deferred-log.js'
import type { Log } from '../log.js'
import type { ProcessRunner } from '../process.js'
import { Appcmd } from './appcmd.js'
import { backupName, readBackupRecord, writeBackupRecord } from './backup.js'

/** Whether the backup is on the server, and what stopped it when it is not. */
export interface RestorePointTaken {
  added: boolean
  error?: Error
}

export interface RestorePoint {
  readonly name: string
  readonly taken: Promise<RestorePointTaken>
  /** Apply's backup step took it over: the run's end leaves it in place. */
  used: boolean
  /** Prints the call's log lines, held back while the stage's own groups were open. */
  readonly flush: () => void
}

export interface RestorePointDeps {
  runner: ProcessRunner
  log: Log
  appcmdPath: string
  releaseId: string
  /** The server's record of our backups (backup.ts); the name joins it once taken, when there is one. */
  recordFile: string
  /** What must succeed first: the IIS read, so a target the read refuses gets no backup. */
  after: Promise<unknown>
}

export function takeRestorePoint(deps: RestorePointDeps, now = new Date()): RestorePoint {
  const name = backupName(deps.releaseId, now)
  const deferred = deferredLog(deps.log)
  const appcmd = new Appcmd({ runner: deps.runner, log: deferred.log, path: deps.appcmdPath })
  const taken = (async (): Promise<RestorePointTaken> => {
    try {
      await deps.after
    } catch (error) {
      return { added: false, error: asError(error) }
    }
    try {
      await appcmd.run({ argv: ['add', 'backup', name], mutates: true })
    } catch (error) {
      return { added: false, error: asError(error) }
    }
    // A run killed before apply leaves a backup the record names, so a later prune counts it as ours. Without a
    // record there is nothing to add to: the next run lists the backups, and finds it by its name.
    const known = readBackupRecord(deps.recordFile)
    if (known) writeBackupRecord(deps.recordFile, [name, ...known.filter(n => n !== name)], deferred.log)
    return { added: true }
  })()
  return { name, taken, used: false, flush: deferred.flush }
}

/** Apply's backup step: waits for the backup and throws what stopped it. */
export async function useRestorePoint(point: RestorePoint): Promise<void> {
  point.used = true
  const taken = await point.taken
  point.flush()
  if (taken.error) throw taken.error
}

/**
 * The run ends without apply having used the backup (the release check failed, or IIS needed no write): it is
 * deleted, and taken out of the record. A delete that fails is returned as a warning: the backup is ours by name,
 * and pruning removes it once our backups exceed keep-backups.
 */
export async function dropRestorePoint(
  point: RestorePoint,
  deps: Omit<RestorePointDeps, 'releaseId' | 'after'>
): Promise<string | undefined> {
  if (point.used) return undefined
  const taken = await point.taken
  point.flush()
  if (!taken.added) return undefined
  const appcmd = new Appcmd({ runner: deps.runner, log: deps.log, path: deps.appcmdPath })
  try {
    await appcmd.run({ argv: ['delete', 'backup', point.name], mutates: true })
    const known = readBackupRecord(deps.recordFile)
    if (known)
      writeBackupRecord(
        deps.recordFile,
        known.filter(n => n !== point.name),
        deps.log
      )
    deps.log.info(`Deleted IIS backup ${point.name}: this run made no IIS change for it to restore`)
    return undefined
  } catch (error) {
    return `could not delete IIS backup ${point.name}, taken for a change this run did not make: ${asError(error).message}`
  }
}
