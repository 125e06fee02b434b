import type { DeployConfig } from '../config.js'
import { asError, PhaseError } from '../errors.js'
import { layoutFor } from '../layout.js'
import type { Log } from '../log.js'
import { ANONYMOUS_SECTION, appId, inRunOrder, planChanges, rootVdirId, same, samePath, vdirId, type ObjectChange } from '../plan/diff.js'
import type { DesiredState, Operation } from '../plan/types.js'
import type { ProcessRunner } from '../process.js'
import { planAcl, runIcacls } from './acl.js'
import { Appcmd, AppcmdError } from './appcmd.js'
import { addBackup, backupRecordFile, pruneBackups, restoreBackup } from './backup.js'
import { acquireLock } from './lock.js'
import { poolsToRecycle, undoPlan } from './undo.js'
import { parseSite, readState, type CurrentState } from './state.js'
import { LocationRecord } from './location-record.js'
import { rememberIdentityAndAuth } from './identity-auth-record.js'

export interface ApplyDeps {
  runner: ProcessRunner
  log: Log
  appcmdPath: string
  icaclsPath: string
}

export interface ApplyInput {
  config: DeployConfig
  desired: DesiredState
  /**
   * Runs once, after the grants and the pre-switch operations, right before the root virtual directory switch;
   * also when IIS needs no change. The action itself passes none (the SP config is applied before apply starts).
   */
  beforeSwitch?: (current: CurrentState) => Promise<void>
  /** The state main read under the same lock before staging; apply reads it itself when absent. */
  current?: CurrentState
  /** The caller already holds the target's lock (main holds it for the whole run): apply and rollback take none. */
  lockHeld?: boolean
}

export interface RollbackResult {
  ok: boolean
  restored: string[]
  failed: string[]
}

export interface ApplyResult {
  changed: boolean
  /** The operations that ran, in order (appcmd and icacls). */
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

function summary(rb: RollbackResult): string {
  const parts: string[] = []
  if (rb.restored.length > 0) parts.push(`restored: ${rb.restored.join('; ')}`)
  if (rb.failed.length > 0) parts.push(`NOT restored: ${rb.failed.join('; ')}`)
  return parts.join('. ') || 'nothing needed restoring'
}

/**
 * Brings IIS to `desired` with only the operations that change something: lock the target, read its state,
 * diff, back up, run, and on any failure restore the backup and the previous release before throwing.
 */
export async function applyRelease(deps: ApplyDeps, input: ApplyInput): Promise<ApplyResult> {
  const { runner, log, appcmdPath, icaclsPath } = deps
  const { config, desired } = input
  const layout = layoutFor(config.deployRoot)
  const appcmd = new Appcmd({ runner, log, path: appcmdPath })
  let icaclsCalls = 0
  const lockOptions = {
    dir: layout.root,
    site: desired.app.site,
    appPath: desired.app.path,
    runId: config.releaseId,
    timeoutMs: config.lockTimeoutMs,
    log
  }

  const withLock = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (input.lockHeld) return fn()
    const lock = await acquireLock(lockOptions)
    try {
      return await fn()
    } finally {
      lock.release()
    }
  }

  return withLock(async () => {
    const record = LocationRecord.read(layout.root)
    const current = input.current ?? (await readState(appcmd, desired, record.known(desired.handlersLocation)))
    const plan = planChanges(current, desired)
    const acl = planAcl(
      layout.root,
      desired.pool.name,
      desired.acl,
      desired.hosting === 'fastcgi' ? layout.wsgiLog : undefined,
      desired.pool.principal
    )
    const appcmdOps = inRunOrder(plan)
    const previousPhysicalPath = current.app.physicalPath
    const executed: Operation[] = []
    const calls = (): ApplyResult['calls'] => ({ appcmdReads: appcmd.reads, appcmdWrites: appcmd.writes, icacls: icaclsCalls })

    const runAcl = async (): Promise<void> => {
      acl.prepare()
      for (const op of acl.operations) {
        icaclsCalls++
        await runIcacls(runner, log, icaclsPath, op)
        executed.push(op)
      }
      acl.commit()
    }

    if (appcmdOps.length === 0) {
      // IIS already matches: no backup and no appcmd write; grants (file system only) and the hook still run.
      try {
        await runAcl()
        await input.beforeSwitch?.(current)
      } catch (err) {
        throw new PhaseError('apply', `IIS needed no change, but ${asError(err).message}`, undefined, { cause: err })
      }
      log.info(`IIS already matches the desired state for ${desired.handlersLocation}: no appcmd writes`)
      return {
        changed: executed.length > 0,
        operations: executed,
        objects: plan.objects,
        previousPhysicalPath,
        calls: calls(),
        rollback: async () => ({ ok: true, restored: [], failed: [] })
      }
    }

    let backupName: string
    try {
      backupName = await addBackup(appcmd, config.releaseId)
    } catch (err) {
      throw new PhaseError(
        'apply',
        `could not take an IIS configuration backup, so nothing was changed: ${asError(err).message}`,
        'run the deploy as an administrator of the server',
        { cause: err }
      )
    }
    executed.push({ tool: 'appcmd', argv: ['add', 'backup', backupName], why: 'restore point for this deploy', mutates: true })

    let switched = false
    // Only when the restore failed: a stale static vdir removed after the switch is what the previous release's
    // pages link (its STATIC_URL), so it is put back by hand like the root vdir.
    const readdRemovedVdirs = async (restored: string[], failed: string[]): Promise<void> => {
      for (const op of executed.filter(o => o.argv[0] === 'delete' && o.argv[1] === 'vdir')) {
        const id = op.argv[2] ?? ''
        const was = current.vdirs.find(v => same(vdirId(desired, v.path), id))
        if (!was) continue
        try {
          await appcmd.run({
            argv: ['add', 'vdir', `/app.name:${appId(desired)}`, `/path:${was.path}`, `/physicalPath:${was.physicalPath}`],
            mutates: true
          })
          restored.push(`static folder ${id} serves ${was.physicalPath} again`)
        } catch (err) {
          failed.push(`static folder ${id} (${asError(err).message})`)
        }
      }
    }
    const appcmdWrites = (): Operation[] => executed.filter(op => op.tool === 'appcmd')
    const undo = async (): Promise<RollbackResult> => {
      const restored: string[] = []
      const failed: string[] = []
      // This run's own writes undone by their inverses first: other sites keep running, others' changes stay.
      const plan = undoPlan(appcmdWrites(), current, desired)
      let undone = false
      if ('ops' in plan) {
        try {
          for (const op of plan.ops) await appcmd.run({ argv: op.argv, mutates: true, secrets: op.secrets })
          restored.push(
            plan.ops.length > 0
              ? `this run's IIS changes, undone one by one (${plan.ops.length} operations)`
              : 'no IIS change of this run needed undoing'
          )
          undone = true
        } catch (err) {
          log.warning(`Undoing this run's IIS changes one by one failed (${asError(err).message}); restoring backup ${backupName} instead`)
        }
      } else {
        log.info(`This run's IIS changes cannot all be undone one by one (${plan.missing}); restoring backup ${backupName}`)
      }
      if (!undone) await restoreFallback(restored, failed)
      await recyclePools(restored, failed)
      record.restore()
      return { ok: failed.length === 0, restored, failed }
    }

    const restoreFallback = async (restored: string[], failed: string[]): Promise<void> => {
      try {
        await restoreBackup(appcmd, backupName)
        restored.push(`IIS configuration from backup ${backupName}`)
      } catch (err) {
        failed.push(`backup ${backupName} (${asError(err).message})`)
      }
      if (switched) {
        // The restored backup already points the app back; confirm it, and set it by hand if the restore failed.
        try {
          const now = parseSite(await appcmd.read('list', 'site', desired.app.site, '/config', '/xml'), desired).app.physicalPath
          if (previousPhysicalPath !== undefined && !samePath(now, previousPhysicalPath)) {
            await appcmd.run({ argv: ['set', 'vdir', rootVdirId(desired), `/physicalPath:${previousPhysicalPath}`], mutates: true })
          }
          if (previousPhysicalPath !== undefined) restored.push(`${desired.handlersLocation} serves ${previousPhysicalPath} again`)
        } catch (err) {
          failed.push(
            `pointing ${desired.handlersLocation} back at ${previousPhysicalPath ?? 'its previous release'} (${asError(err).message})`
          )
        }
      }
      if (failed.length > 0) await readdRemovedVdirs(restored, failed)
    }

    // wfastcgi reads its settings once per process and FastCGI processes outlive a configuration change: after
    // the configuration is back, the pools that serve (or served) the app start fresh workers on it.
    const recyclePools = async (restored: string[], failed: string[]): Promise<void> => {
      for (const pool of poolsToRecycle(current, desired)) {
        try {
          await appcmd.run({ argv: ['recycle', 'apppool', `/apppool.name:${pool}`], mutates: true })
          restored.push(`app pool ${pool} recycled`)
        } catch (err) {
          // A stopped pool runs no worker, so nothing of the failed release is left running in it.
          if (/has not been started/i.test(asError(err).message)) restored.push(`app pool ${pool} is stopped, nothing to recycle`)
          else failed.push(`recycling app pool ${pool} (${asError(err).message})`)
        }
      }
    }

    let step = ''
    try {
      for (const op of plan.pool) {
        step = `step "${op.why}"`
        await appcmd.run({ argv: op.argv, mutates: true, secrets: op.secrets })
        executed.push(op)
      }
      // Grants before anything can serve the release: the pool must be able to read it the moment IIS points there.
      step = 'the file access grants (icacls)'
      await runAcl()
      for (const op of plan.beforeSwitch) {
        step = `step "${op.why}"`
        await appcmd.run({ argv: op.argv, mutates: true, secrets: op.secrets })
        executed.push(op)
      }
      step = 'the pre-switch hook'
      await input.beforeSwitch?.(current)
      if (plan.switchOp) {
        step = `step "${plan.switchOp.why}"`
        await appcmd.run({ argv: plan.switchOp.argv, mutates: true })
        switched = true
        executed.push(plan.switchOp)
      }
      for (const op of plan.afterSwitch) {
        step = `step "${op.why}"`
        await appcmd.run({ argv: op.argv, mutates: true, secrets: op.secrets })
        executed.push(op)
      }
    } catch (err) {
      const error = asError(err)
      // A log line, not an annotation: the run's one error line (main) names this failure and the rollback.
      log.info(`Apply failed at ${step}: ${error.message}; rolling back`)
      const rb = await undo()
      const hint =
        error instanceof AppcmdError && error.kind === 'locked' ? 'applicationHost.config was in use; retry the deploy' : undefined
      throw new PhaseError('apply', `apply failed at ${step}: ${error.message}. Rolled back — ${summary(rb)}`, hint, {
        cause: err,
        rolledBack: true
      })
    }

    if (plan.beforeSwitch.some(op => op.argv[0] === 'unlock')) record.add(desired.handlersLocation)
    if (plan.beforeSwitch.some(op => op.argv.includes(ANONYMOUS_SECTION))) record.add(desired.handlersLocation, 'anonymousAsPool')
    record.setHttpPlatformNames(
      desired.handlersLocation,
      desired.hosting === 'httpplatform' ? desired.httpPlatformSecretEnv.map(v => v.name) : []
    )
    rememberIdentityAndAuth(record, desired, current)
    await pruneBackups(appcmd, config.keepBackups, log, { file: backupRecordFile(config.lockDir), added: backupName })
    log.info(`Applied ${executed.length} operations to IIS for ${desired.handlersLocation} (backup ${backupName})`)

    return {
      changed: true,
      operations: executed,
      objects: plan.objects,
      backupName,
      previousPhysicalPath,
      calls: calls(),
      rollback: () =>
        withLock(async () => {
          // Another deploy may have gone live since: restoring our backup would silently undo it.
          const now = parseSite(await appcmd.read('list', 'site', desired.app.site, '/config', '/xml'), desired).app.physicalPath
          if (!samePath(now, desired.app.physicalPath)) {
            return {
              ok: false,
              restored: [],
              failed: [`${desired.handlersLocation} now serves ${now ?? 'nothing'}, not this release; left as it is`]
            }
          }
          const rb = await undo()
          log.info(`Rollback of ${config.releaseId}: ${summary(rb)}`)
          return rb
        })
    }
  })
}
