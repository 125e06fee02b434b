/**
 * Runs a deploy plan's IIS steps (src/plan/build.ts) in the order written, and nothing else; on a failure after
 * the backup it rolls back (src/iis/rollback.ts) before throwing. The caller holds the target's and the server's
 * locks (src/main.ts) and read the state the plan was built from under them.
 */
import fs from 'node:fs'
import { asError, PhaseError } from '../errors.js'
import { layoutFor } from '../layout.js'
import type { Log } from '../log.js'
import { iisSteps, type DeployPlan } from '../plan/build.js'
import { ANONYMOUS_SECTION, type ObjectChange } from '../plan/diff.js'
import type { Operation, Step } from '../plan/types.js'
import type { ProcessRunner } from '../process.js'
import { prepareGrantFolders, recordGrants, runIcacls } from './acl.js'
import { locationPath } from './app-location.js'
import { Appcmd, AppcmdError } from './appcmd.js'
import { pruneBackups, writeBackupRecord } from './backup.js'
import { removeBackupFolder } from './backup-folder.js'
import { LocationRecord } from './location-record.js'
import { rememberIdentityAndAuth } from './identity-auth-record.js'
import { rememberFastCgi } from './fastcgi-record.js'
import { useRestorePoint, type RestorePoint } from './restore-point.js'
import { rollbackIfStillOurs, rollbackSummary, undoApply, type ApplyTrail, type RollbackResult } from './rollback.js'

export type { RollbackResult } from './rollback.js'

export interface ApplyDeps {
  runner: ProcessRunner
  log: Log
  appcmdPath: string
  icaclsPath: string
  /**
   * Runs the plan's pre-switch check against the temporary site (src/plan/pre-switch-ops.ts); throws when the
   * release fails there. The caller brings verify: apply knows IIS, not HTTP.
   */
  checkBeforeSwitch?: (step: Step) => Promise<void>
  /** The backup taken beside the release check (src/iis/restore-point.ts): the plan's backup step waits for it. */
  restorePoint?: RestorePoint
}

/** Hooks around each step (a run journal records through them); `index` counts the IIS steps from 0. */
export interface StepObserver {
  beforeStep?(step: Step, index: number): void | Promise<void>
  afterStep?(step: Step, index: number): void | Promise<void>
  stepFailed?(step: Step, index: number, error: Error): void | Promise<void>
}

export interface ApplyResult {
  changed: boolean
  /** The steps that ran, in order (appcmd, icacls, and the deletes of old backups' folders). */
  operations: Operation[]
  objects: ObjectChange[]
  backupName?: string
  /** What the app served before the switch: the rollback target. */
  previousPhysicalPath?: string
  calls: { appcmdReads: number; appcmdWrites: number; icacls: number }
  /**
   * Undoes this apply after a later failure (verify): this run's writes by their inverses (the backup only when
   * one has none or fails), then a recycle of the app's pools.
   */
  rollback(): Promise<RollbackResult>
}

/** Walks `plan`'s IIS steps in order; throws a PhaseError (after rolling back) when a step that must succeed fails. */
export async function applyPlan(deps: ApplyDeps, plan: DeployPlan, observer?: StepObserver): Promise<ApplyResult> {
  const { runner, log, appcmdPath, icaclsPath } = deps
  const { desired, current, backupName } = plan
  const layout = layoutFor(plan.deployRoot)
  const appcmd = new Appcmd({ runner, log, path: appcmdPath })
  const record = LocationRecord.read(layout.root)
  const location = locationPath(desired.app)
  const steps = iisSteps(plan)
  const executed: Operation[] = []
  let icaclsCalls = 0
  let switched = false
  const trail = (): ApplyTrail => ({ appcmd, log, current, desired, executed, backupName: backupName ?? '', switched, record })

  const runStep = async (step: Step): Promise<void> => {
    if (step.phase === 'prune-backups' && step.argv[0] === 'list') {
      // No record named our backups when the plan was built: this step lists them and deletes the old ones.
      const added = backupName ?? ''
      await pruneBackups(appcmd, plan.keepBackups, log, plan.backupRecordFile ? { file: plan.backupRecordFile, added } : undefined)
    } else if (step.tool === 'verify') {
      if (!deps.checkBeforeSwitch) throw new Error('the plan checks the release before the switch, but no check was given')
      await deps.checkBeforeSwitch(step)
    } else if (step.phase === 'backup' && deps.restorePoint?.name === step.argv[2]) {
      await useRestorePoint(deps.restorePoint)
    } else if (step.tool === 'file' && step.phase === 'prune-backups') {
      const folder = step.argv[1] ?? ''
      log.info(removeBackupFolder(folder) ? `deleted ${folder}` : `${folder} was gone already`)
    } else if (step.tool === 'icacls') {
      icaclsCalls++
      await runIcacls(runner, log, icaclsPath, step)
    } else {
      await appcmd.run({ argv: step.argv, mutates: step.mutates, secrets: step.secrets })
    }
  }

  const failure = async (step: Step, err: unknown): Promise<PhaseError> => {
    const error = asError(err)
    if (step.phase === 'backup') {
      return new PhaseError(
        'apply',
        `could not take an IIS configuration backup, so nothing was changed: ${error.message}`,
        'run the deploy as an administrator of the server',
        { cause: err }
      )
    }
    if (!backupName) return new PhaseError('apply', `IIS needed no change, but ${error.message}`, undefined, { cause: err })
    // A log line, not an annotation: the run's one error line (main) names this failure and the rollback.
    log.info(`Apply failed at step "${step.why}": ${error.message}; rolling back`)
    const rb = await undoApply(trail())
    if (step.phase === 'pre-switch-verify') {
      // The switch never ran: the live release served throughout; the temporary site went with the undo.
      return new PhaseError(
        'verify',
        `the new release failed verify through IIS before the switch (${error.message}); the live release was not switched. Rolled back — ${rollbackSummary(rb)}`,
        undefined,
        { cause: err, rolledBack: rb.ok, beforeSwitch: true }
      )
    }
    const hint = error instanceof AppcmdError && error.kind === 'locked' ? 'applicationHost.config was in use; retry the deploy' : undefined
    return new PhaseError('apply', `apply failed at step "${step.why}": ${error.message}. Rolled back — ${rollbackSummary(rb)}`, hint, {
      cause: err,
      rolledBack: true
    })
  }

  prepareGrantFolders(layout.root, desired.acl, desired.hosting === 'fastcgi' ? layout.wsgiLog : undefined)
  for (const [index, step] of steps.entries()) {
    await observer?.beforeStep?.(step, index)
    try {
      await runStep(step)
    } catch (err) {
      await observer?.stepFailed?.(step, index, asError(err))
      if (step.bestEffort) {
        log.warning(`${step.why}: ${asError(err).message}`)
        continue
      }
      throw await failure(step, err)
    }
    executed.push(step)
    if (step.phase === 'switch') switched = true
    // Recorded once the last grant ran: a no-op redeploy then runs no icacls (grants are never undone).
    if (step.phase === 'grants' && steps[index + 1]?.phase !== 'grants') recordGrants(layout.root, plan.grantRecords)
    await observer?.afterStep?.(step, index)
  }

  if (plan.backupRecordFile && plan.backupsKept) {
    // A delete that failed leaves the record unsure: the next run lists the backups instead.
    const unsure = steps.some(step => step.phase === 'prune-backups' && !executed.includes(step))
    if (unsure) fs.rmSync(plan.backupRecordFile, { force: true })
    else writeBackupRecord(plan.backupRecordFile, plan.backupsKept, log)
  }
  if (backupName) {
    if (executed.some(op => op.argv[0] === 'unlock')) record.add(location)
    if (executed.some(op => op.argv.includes(ANONYMOUS_SECTION))) record.add(location, 'anonymousAsPool')
    record.setHttpPlatformNames(location, desired.hosting === 'httpplatform' ? desired.httpPlatformSecretEnv.map(v => v.name) : [])
    rememberIdentityAndAuth(record, desired, current)
    await rememberFastCgi(record, desired, current)
    record.setExtra('warmUp', location, desired.warmUp ? { pool: desired.pool.name } : undefined)
    log.info(`Applied ${executed.length} steps to IIS for ${location} (backup ${backupName})`)
  } else {
    log.info(`IIS already matches the desired state for ${location}: no appcmd writes`)
  }
  const writes = executed.filter(op => op.mutates)
  return {
    changed: writes.length > 0,
    operations: writes,
    objects: plan.objects,
    ...(backupName ? { backupName } : {}),
    previousPhysicalPath: current.app.physicalPath,
    calls: { appcmdReads: appcmd.reads, appcmdWrites: appcmd.writes + (deps.restorePoint?.used ? 1 : 0), icacls: icaclsCalls },
    rollback: async () => {
      if (!backupName) return { ok: true, restored: [], failed: [] }
      const rb = await rollbackIfStillOurs(trail())
      log.info(`Rollback of ${desired.app.physicalPath}: ${rollbackSummary(rb)}`)
      return rb
    }
  }
}
