/**
 * Undoes an apply: this run's appcmd writes by their inverses (src/iis/undo.ts), the backup only when one has none
 * or an inverse fails, then a recycle of the app's pools (docs/iis-apply.md, "Rollback").
 */
import { asError } from '../errors.js'
import type { Log } from '../log.js'
import type { DesiredState, Operation } from '../plan/types.js'
import { samePath } from '../windows-path.js'
import { appId, locationPath, rootVdirId, sameName, vdirId } from './app-location.js'
import type { Appcmd } from './appcmd.js'
import { restoreBackup } from './backup.js'
import { forgetFastCgi } from './fastcgi-record.js'
import type { LocationRecord } from './location-record.js'
import { foreignChanges } from '../journal/foreign-changes.js'
import { parseSite, readState, type CurrentState } from './state.js'
import { poolsToRecycle, undoPlan } from './undo.js'

export interface RollbackResult {
  ok: boolean
  restored: string[]
  failed: string[]
}

/** What an apply leaves for its rollback: the state before it, what ran, and the restore point. */
export interface ApplyTrail {
  appcmd: Appcmd
  log: Log
  current: CurrentState
  desired: DesiredState
  /** The steps that ran, in order. */
  executed: readonly Operation[]
  backupName: string
  /** The root vdir switch ran. */
  switched: boolean
  record: LocationRecord
}

export function rollbackSummary(rb: RollbackResult): string {
  const parts: string[] = []
  if (rb.restored.length > 0) parts.push(`restored: ${rb.restored.join('; ')}`)
  if (rb.failed.length > 0) parts.push(`NOT restored: ${rb.failed.join('; ')}`)
  return parts.join('. ') || 'nothing needed restoring'
}

async function servedPath(trail: ApplyTrail): Promise<string | undefined> {
  const { appcmd, desired } = trail
  return parseSite(await appcmd.read('list', 'site', desired.app.site, '/config', '/xml'), desired).app.physicalPath
}

/** Only when the restore failed: a stale static vdir removed after the switch is what the previous release's pages link. */
async function readdRemovedVdirs(trail: ApplyTrail, restored: string[], failed: string[]): Promise<void> {
  const { appcmd, current, desired } = trail
  for (const op of trail.executed.filter(o => o.argv[0] === 'delete' && o.argv[1] === 'vdir')) {
    const id = op.argv[2] ?? ''
    const was = current.vdirs.find(v => sameName(vdirId(desired.app, v.path), id))
    if (!was) continue
    try {
      await appcmd.run({
        argv: ['add', 'vdir', `/app.name:${appId(desired.app)}`, `/path:${was.path}`, `/physicalPath:${was.physicalPath}`],
        mutates: true
      })
      restored.push(`static folder ${id} serves ${was.physicalPath} again`)
    } catch (err) {
      failed.push(`static folder ${id} (${asError(err).message})`)
    }
  }
}

/**
 * Changes others made to the app's IIS objects since the backup, which restoring it reverts: named in a warning
 * rather than reverted silently. Best effort: a failed read names none.
 */
async function othersChanges(trail: ApplyTrail): Promise<string[]> {
  const { appcmd, desired, current } = trail
  try {
    const now = await readState(appcmd, desired, trail.record.known(locationPath(desired.app)))
    const steps = trail.executed.map(op => ({ tool: op.tool, argv: [...op.argv], mutates: op.mutates, status: 'done' as const }))
    return foreignChanges({ steps, before: current, desired }, now)
  } catch {
    return []
  }
}

async function restoreFallback(trail: ApplyTrail, restored: string[], failed: string[]): Promise<void> {
  const { appcmd, desired, backupName } = trail
  const others = await othersChanges(trail)
  if (others.length > 0)
    trail.log.warning(`Restoring backup ${backupName} also reverts changes made by someone else since it was taken: ${others.join('; ')}`)
  const previous = trail.current.app.physicalPath
  const location = locationPath(desired.app)
  try {
    await restoreBackup(appcmd, backupName)
    restored.push(`IIS configuration from backup ${backupName}`)
  } catch (err) {
    failed.push(`backup ${backupName} (${asError(err).message})`)
  }
  if (trail.switched) {
    // The restored backup already points the app back; confirm it, and set it by hand if the restore failed.
    try {
      const now = await servedPath(trail)
      if (previous !== undefined && !samePath(now, previous)) {
        await appcmd.run({ argv: ['set', 'vdir', rootVdirId(desired.app), `/physicalPath:${previous}`], mutates: true })
      }
      if (previous !== undefined) restored.push(`${location} serves ${previous} again`)
    } catch (err) {
      failed.push(`pointing ${location} back at ${previous ?? 'its previous release'} (${asError(err).message})`)
    }
  }
  if (failed.length > 0) await readdRemovedVdirs(trail, restored, failed)
}

// wfastcgi reads its settings once per process and FastCGI processes outlive a configuration change: after the
// configuration is back, the pools that serve (or served) the app start fresh workers on it.
async function recyclePools(trail: ApplyTrail, restored: string[], failed: string[]): Promise<void> {
  for (const pool of poolsToRecycle(trail.current, trail.desired)) {
    try {
      await trail.appcmd.run({ argv: ['recycle', 'apppool', `/apppool.name:${pool}`], mutates: true })
      restored.push(`app pool ${pool} recycled`)
    } catch (err) {
      // A stopped pool runs no worker, so nothing of the failed release is left running in it.
      if (/has not been started/i.test(asError(err).message)) restored.push(`app pool ${pool} is stopped, nothing to recycle`)
      else failed.push(`recycling app pool ${pool} (${asError(err).message})`)
    }
  }
}

/** Undoes the apply `trail` describes; reports what was and was not restored instead of throwing. */
export async function undoApply(trail: ApplyTrail): Promise<RollbackResult> {
  const { appcmd, log, backupName } = trail
  const restored: string[] = []
  const failed: string[] = []
  // This run's own writes undone by their inverses first: other sites keep running, others' changes stay.
  const plan = undoPlan(
    trail.executed.filter(op => op.tool === 'appcmd'),
    trail.current,
    trail.desired
  )
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
  if (!undone) await restoreFallback(trail, restored, failed)
  await recyclePools(trail, restored, failed)
  trail.record.restore()
  // Whatever made this run fail may be a FastCGI registration changed by hand: the next run reads it again.
  forgetFastCgi(trail.record, trail.desired)
  return { ok: failed.length === 0, restored, failed }
}

/** After a failed verify: undoes the apply unless another deploy went live since (restoring would undo that one). */
export async function rollbackIfStillOurs(trail: ApplyTrail): Promise<RollbackResult> {
  const now = await servedPath(trail)
  if (!samePath(now, trail.desired.app.physicalPath)) {
    return {
      ok: false,
      restored: [],
      failed: [`${locationPath(trail.desired.app)} now serves ${now ?? 'nothing'}, not this release; left as it is`]
    }
  }
  return undoApply(trail)
}
