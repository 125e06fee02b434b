/**
 * Recovery of a run that stopped without finishing (killed, power loss): run first under the target's and the
 * server's locks, before the new run reads IIS. It undoes the journal's applied steps by their inverses (newest
 * first; src/iis/undo.ts), falls back to the run's appcmd backup when one has none or fails, recycles the app's
 * pools and marks the interrupted release failed (docs/iis-apply.md, "Run journal and recovery").
 */
import fs from 'node:fs'
import path from 'node:path'
import { asError } from '../errors.js'
import { appendHistory, historyFileFor } from '../history/store.js'
import type { ApplyDeps } from '../iis/apply.js'
import { locationPath } from '../iis/app-location.js'
import { Appcmd } from '../iis/appcmd.js'
import { restoreBackup } from '../iis/backup.js'
import { LOCATION_RECORD_FILE } from '../iis/location-record.js'
import { readStateAt } from '../iis/state.js'
import { inverseOf, NoInverse, poolsToRecycle, undoPlan } from '../iis/undo.js'
import { layoutFor, type Layout } from '../layout.js'
import type { DesiredState, Operation } from '../plan/types.js'
import { markRelease, passedVerify, readRelease, readReleaseAt } from '../releases.js'
import { samePath } from '../windows-path.js'
import { writeFileAtomic } from '../render/atomic-write.js'
import type { DeployTarget } from '../deploy-root-claim.js'
import { foreignChanges } from './foreign-changes.js'
import { recoverSpChange } from './recover-sp.js'
import { closeJournal, journalFileFor, MASKED, readJournal, type RunJournal } from './store.js'

export interface Recovery {
  ok: boolean
  /** The interrupted run's release. */
  releaseId: string
  /** What the log, the summary and the history say. */
  notice: string
  restored: string[]
  failed: string[]
  /** Changes by someone else since the interrupted run's backup, named, not reverted (unless the backup was restored). */
  foreign: string[]
}

const asOperation = (s: RunJournal['steps'][number]): Operation => ({ tool: s.tool, argv: s.argv, why: s.why, mutates: s.mutates })
const needsMasked = (ops: Operation[]): boolean => ops.some(op => op.argv.some(a => a.includes(MASKED)))

async function runAll(appcmd: Appcmd, ops: Operation[]): Promise<void> {
  for (const op of ops) await appcmd.run({ argv: op.argv, mutates: true, secrets: op.secrets })
}

/** The inverses of the journal's steps; the backup when one is unknown, needs a value not recorded, or fails. */
async function undoSteps(
  appcmd: Appcmd,
  journal: RunJournal,
  foreign: string[],
  restored: string[],
  failed: string[],
  warn: (m: string) => void
) {
  // inverseOf reads only the names, keys and paths a JournalDesired holds (src/iis/undo.ts).
  const desired = journal.desired as unknown as DesiredState
  const writes = journal.steps.filter(s => s.tool === 'appcmd' && s.mutates && s.status !== 'failed')
  // Killed before its first IIS write (during the SP change, or before apply): nothing in IIS to undo.
  if (writes.length === 0) return
  const done = writes.filter(s => s.status === 'done').map(asOperation)
  const inDoubt = writes.filter(s => s.status === 'started').map(asOperation)
  let reason: string | undefined
  try {
    // A step the run started but never recorded as done may or may not have reached IIS: its inverse is tried,
    // and a refusal (nothing to delete, a value already gone) means it had not.
    for (const op of inDoubt.reverse()) {
      const inverse = inverseOf(op, journal.before, desired)
      if (needsMasked(inverse)) throw new NoInverse(`${op.why} needs an earlier secret value the journal does not hold`)
      await runAll(appcmd, inverse).catch(() => undefined)
    }
    const plan = undoPlan(done, journal.before, desired)
    if ('missing' in plan) reason = plan.missing
    else if (needsMasked(plan.ops)) reason = 'an inverse needs an earlier secret value the journal does not hold'
    else {
      await runAll(appcmd, plan.ops)
      restored.push(`the interrupted run's IIS changes, undone one by one (${plan.ops.length} operations)`)
      return
    }
  } catch (err) {
    reason = asError(err).message
  }
  const backup = journal.backupName
  if (!backup) {
    failed.push(`the interrupted run's IIS changes (${reason ?? 'unknown'}; it took no backup)`)
    return
  }
  const reverts = foreign.length > 0 ? `; this also reverts changes made by others since then: ${foreign.join('; ')}` : ''
  warn(
    `Undoing the interrupted run's IIS changes one by one is not possible (${reason ?? 'unknown'}); restoring its backup ${backup}${reverts}`
  )
  try {
    await restoreBackup(appcmd, backup)
    restored.push(`IIS configuration from backup ${backup}`)
  } catch (err) {
    failed.push(`backup ${backup} (${asError(err).message})`)
  }
}

async function recyclePools(appcmd: Appcmd, journal: RunJournal, restored: string[], failed: string[]): Promise<void> {
  if (!journal.steps.some(s => s.tool === 'appcmd' && s.mutates && s.status !== 'failed')) return
  // wfastcgi reads its settings once per worker: workers started on the interrupted run's configuration must go.
  for (const pool of poolsToRecycle(journal.before, journal.desired as unknown as DesiredState)) {
    try {
      await appcmd.run({ argv: ['recycle', 'apppool', `/apppool.name:${pool}`], mutates: true })
      restored.push(`app pool ${pool} recycled`)
    } catch (err) {
      if (/has not been started/i.test(asError(err).message)) continue
      failed.push(`recycling app pool ${pool} (${asError(err).message})`)
    }
  }
}

function restoreLocationRecord(deployRoot: string, original: string | null): void {
  const file = path.join(deployRoot, LOCATION_RECORD_FILE)
  if (original === null) fs.rmSync(file, { force: true })
  else writeFileAtomic(file, original)
}

/** The release of ours the app served before the interrupted run, when it had passed verify. */
function releaseServedBefore(layout: Layout, journal: RunJournal): string | undefined {
  const dir = journal.previousPhysicalPath
  if (!dir) return undefined
  const meta = readReleaseAt(dir)
  return meta && samePath(layout.releaseDir(meta.id), dir) && passedVerify(meta) ? meta.id : undefined
}

export interface RecoveryDeps extends ApplyDeps {
  deployRoot: string
  target: DeployTarget
}

/**
 * Recovers the target's unfinished run, if its journal says there is one; undefined when there is none. Never
 * throws for what it could not restore: the result says it, and the journal stays for the next run to try again.
 */
export async function recoverUnfinishedRun(deps: RecoveryDeps): Promise<Recovery | undefined> {
  const { log, deployRoot, target } = deps
  const file = journalFileFor(deployRoot, target)
  const read = readJournal(file)
  if (read.kind === 'none') {
    // A run killed in its first journal write had applied nothing; only that write's temp file can be left.
    closeJournal(file)
    return undefined
  }
  if (read.kind === 'unreadable') {
    const notice = `The run journal ${file} could not be read (${read.reason}): an earlier run may have stopped unfinished; check IIS against the last verified release`
    log.warning(notice)
    return { ok: false, releaseId: '', notice, restored: [], failed: [notice], foreign: [] }
  }
  const journal = read.journal
  const layout = layoutFor(deployRoot)
  const meta = readRelease(layout, journal.releaseId)
  if (!journal.releaseVerifiedBefore && meta && passedVerify(meta)) {
    // It stopped after its verify passed and the release was marked live: the run had in fact succeeded.
    closeJournal(file)
    log.info(`The run of release ${journal.releaseId} stopped after its verify passed: nothing to recover`)
    return undefined
  }
  const location = locationPath(journal.desired.app)
  const previous = releaseServedBefore(layout, journal)
  const goal =
    previous && previous === journal.lastVerifiedRelease
      ? `release ${previous}, the last verified one`
      : previous
        ? `release ${previous}, which it served before that run`
        : 'its state before that run'
  log.warning(
    `An earlier run of release ${journal.releaseId} (started ${journal.startedAt}) stopped during ${journal.state === 'applying' ? 'apply' : 'verify'}; bringing ${location} back to ${goal}`
  )
  const appcmd = new Appcmd({ runner: deps.runner, log, path: deps.appcmdPath })
  const restored: string[] = []
  const failed: string[] = []
  let foreign: string[] = []
  try {
    foreign = foreignChanges(journal, await readStateAt(appcmd, journal.desired, deployRoot))
  } catch (err) {
    failed.push(`reading IIS (${asError(err).message})`)
  }
  for (const change of foreign) log.warning(`Since the interrupted run's backup, someone else changed IIS: ${change}; left as it is`)
  if (failed.length === 0) {
    await undoSteps(appcmd, journal, foreign, restored, failed, m => log.warning(m))
    await recyclePools(appcmd, journal, restored, failed)
    restoreLocationRecord(deployRoot, journal.locationRecord)
    const sp = await recoverSpChange({ runner: deps.runner, log, appcmd, deployRoot }, journal)
    restored.push(...sp.restored)
    failed.push(...sp.failed)
    for (const change of sp.foreign) log.warning(`Since the interrupted run, someone else changed the SP config: ${change}; left as it is`)
    foreign.push(...sp.foreign)
  }
  if (!journal.releaseVerifiedBefore && meta) markRelease(layout, journal.releaseId, 'failed')
  const ok = failed.length === 0
  const back = journal.previousPhysicalPath
    ? `${location} serves ${journal.previousPhysicalPath} again`
    : `${location} is as before that run`
  const notice = ok
    ? `Recovered the interrupted run of release ${journal.releaseId}: ${back} (${restored.join('; ')})`
    : `The interrupted run of release ${journal.releaseId} was NOT fully recovered: ${failed.join('; ')}`
  if (ok) {
    closeJournal(file)
    log.info(notice)
  } else log.warning(notice)
  try {
    appendHistory(
      historyFileFor(deployRoot, target),
      {
        time: new Date().toISOString(),
        mode: 'recover',
        target,
        releaseId: journal.releaseId,
        outcome: ok ? 'failed-rolled-back' : 'failed',
        releaseBuilt: false,
        iisChanges: [],
        ...(ok && previous ? { live: previous } : {}),
        error: notice.slice(0, 500)
      },
      text => log.redact(text)
    )
  } catch (err) {
    log.warning(`release history not written: ${asError(err).message}`)
  }
  return { ok, releaseId: journal.releaseId, notice, restored, failed, foreign }
}
