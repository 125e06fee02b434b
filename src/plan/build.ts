/**
 * The deploy plan: every step a deploy takes on the server, in the order it takes them, built once. plan.json
 * shows these steps and apply (src/iis/apply.ts) runs them as written (docs/iis-apply.md).
 */
import type { GrantPlan, GrantRecord } from '../iis/acl.js'
import { backupName, newestFirst } from '../iis/backup.js'
import type { CurrentState } from '../iis/state.js'
import { freshState, planChanges, type ObjectChange } from './diff.js'
import { preSwitchOps, type PreSwitchSite } from './pre-switch-ops.js'
import { PHASES, type DesiredState, type Operation, type Phase, type Step } from './types.js'

/** What the plan is built from: the desired state (config and stage facts), the server as read, and the records. */
export interface PlanInput {
  /** deploy-root: where the grant and location records live. */
  deployRoot: string
  desired: DesiredState
  /** The IIS state read from the server; undefined plans against an empty server (no IIS on this machine). */
  current: CurrentState | undefined
  /** The grants deploy-root has no record of (pendingGrants). */
  grants: GrantPlan
  releaseId: string
  /** Our IIS backups beyond this many are deleted after a good apply (keep-backups). */
  keepBackups: number
  /** Where our backups' names are recorded (src/iis/backup.ts), so pruning lists them only without a record. */
  backupRecordFile?: string
  /** Our backups the record names (readBackupRecord); undefined when there is no record, so they are listed. */
  knownBackups?: string[]
  /** The folders IIS keeps our backups in, by name (src/iis/backup-folder.ts): these are deleted without appcmd. */
  backupFolders?: ReadonlyMap<string, string>
  /** Names the backup: one plan, one backup name. */
  now: Date
  /**
   * The backup taken beside the release check (src/iis/restore-point.ts), when there is one: the plan's backup
   * step names it and comes first, since it was taken before anything else of the plan ran.
   */
  restorePoint?: string
  /** The SP's configuration change (planShibboleth), run before IIS is touched. */
  spConfig?: Operation[]
  /** The SP's pool recycle, run after IIS: the IIS module keeps the site list its workers started with. */
  spRecycle?: Operation[]
  /** verify-before-switch: the temporary site and the URL checked on it (src/plan/pre-switch-ops.ts). */
  preSwitch?: { site: PreSwitchSite; checkUrl: string }
}

export interface DeployPlan {
  steps: Step[]
  deployRoot: string
  keepBackups: number
  backupRecordFile?: string
  /** With a record: our backups after this run's pruning, newest first, written back to the record. */
  backupsKept?: string[]
  /** False when no server state was read: the steps are those of a server without this app. */
  diffedAgainstServer: boolean
  /** The state the steps start from (an empty server when none was read): what rollback computes inverses against. */
  current: CurrentState
  desired: DesiredState
  /** Every IIS object the deploy looks at, with what the plan does to it. */
  objects: ObjectChange[]
  /** The backup the plan takes; absent when IIS needs no appcmd write. */
  backupName?: string
  /** Grant records to write once the grants ran. */
  grantRecords: GrantRecord[]
  /** The temporary site the plan creates, checks and removes before the switch; absent without one. */
  preSwitch?: PreSwitchSite
}

/** The phases apply runs against IIS itself; the SP's phases run with the SP's own transaction (src/flow/deploy-steps.ts). */
export const IIS_PHASES: ReadonlySet<Phase> = new Set<Phase>(PHASES.filter(phase => !phase.startsWith('sp-')))

const inPhase =
  (phase: Phase, bestEffort = false) =>
  (op: Operation): Step =>
    bestEffort ? { phase, ...op, bestEffort } : { phase, ...op }

/**
 * Deletes our backups beyond the newest keep-backups, others' never. With a record of ours the deletes are known
 * now and are steps of their own; without one, a single step lists the backups and deletes what it finds.
 * Returns the backups kept when the record decided.
 */
function pruneSteps(steps: Step[], backup: string, input: PlanInput): string[] | undefined {
  const keep = Math.max(input.keepBackups, 1)
  if (input.knownBackups === undefined) {
    steps.push(
      inPhase(
        'prune-backups',
        true
      )({
        tool: 'appcmd',
        argv: ['list', 'backups'],
        why: `then delete our backups beyond the newest ${keep} (no record of ours names them); others' backups are never touched`,
        mutates: false
      })
    )
    return undefined
  }
  const ours = newestFirst([backup, ...input.knownBackups.filter(name => name !== backup)])
  const prune = inPhase('prune-backups', true)
  for (const old of ours.slice(keep)) {
    const why = `our backups beyond the newest ${keep} are deleted`
    const folder = input.backupFolders?.get(old)
    // IIS keeps a backup as a folder of its name (src/iis/backup-folder.ts): deleting it saves an appcmd call.
    const op: Operation = folder
      ? { tool: 'file', argv: ['delete', folder], why: `${why}: ${old} is this folder`, mutates: true }
      : { tool: 'appcmd', argv: ['delete', 'backup', old], why, mutates: true }
    steps.push(prune(op))
  }
  return ours.slice(0, keep)
}

/** Pure: the whole deploy as steps, in the order they run. */
export function buildPlan(input: PlanInput): DeployPlan {
  const { desired, current } = input
  // A plan against a state whose fastCgi section is unknown would re-register what is there (settleFastCgi first).
  if (current?.fastCgiDeferred) throw new Error('the plan needs the fastCgi state: settle the deferred read first')
  const changes = planChanges(current, desired)
  const pool = desired.pool.name
  const appcmdWrites = [...changes.pool, ...changes.beforeSwitch, ...(changes.switchOp ? [changes.switchOp] : []), ...changes.afterSwitch]
  const backup = appcmdWrites.length > 0 ? (input.restorePoint ?? backupName(input.releaseId, input.now)) : undefined
  const backupStep = backup
    ? inPhase('backup')({
        tool: 'appcmd',
        argv: ['add', 'backup', backup],
        why: input.restorePoint ? 'restore point for this deploy (taken while the release was checked)' : 'restore point for this deploy',
        mutates: true
      })
    : undefined

  const steps: Step[] = []
  if (backupStep && input.restorePoint) steps.push(backupStep)
  steps.push(...(input.spConfig ?? []).map(inPhase('sp-config')))
  if (backupStep && !input.restorePoint) steps.push(backupStep)
  // The pool first: a grant to `IIS AppPool\<pool>` needs the pool to exist. The grants before anything can serve
  // the release: the pool must be able to read it the moment IIS points there.
  steps.push(...changes.pool.map(inPhase('pool')))
  steps.push(...input.grants.operations.map(inPhase('grants')))
  steps.push(...changes.beforeSwitch.map(inPhase('before-switch')))
  // Only where a live release is switched away from: a new app has no live release for the check to protect.
  const preSwitch = changes.switchOp && current && input.preSwitch ? input.preSwitch : undefined
  if (preSwitch && current) {
    const temp = preSwitchOps(desired, current, preSwitch.site, preSwitch.checkUrl)
    steps.push(...temp.create.map(inPhase('pre-switch')), inPhase('pre-switch-verify')(temp.check))
    steps.push(...temp.remove.map(inPhase('pre-switch-remove')))
  }
  if (changes.switchOp) steps.push(inPhase('switch')(changes.switchOp))
  steps.push(...changes.afterSwitch.map(inPhase('after-switch')))
  if (backup) {
    // wfastcgi reads its settings once per process: the pool's workers start again on the new configuration.
    steps.push(
      inPhase('recycle')({
        tool: 'appcmd',
        argv: ['recycle', 'apppool', `/apppool.name:${pool}`],
        why: `start ${pool}'s workers on the new configuration`,
        mutates: true
      })
    )
  }
  // The SP's own recycle is housekeeping once the app is live; a failure warns and verify's SSO check judges.
  steps.push(...(input.spRecycle ?? []).map(inPhase('sp-recycle', true)))
  const kept = backup ? pruneSteps(steps, backup, input) : undefined
  return {
    steps,
    deployRoot: input.deployRoot,
    keepBackups: input.keepBackups,
    ...(input.backupRecordFile ? { backupRecordFile: input.backupRecordFile } : {}),
    ...(kept ? { backupsKept: kept } : {}),
    diffedAgainstServer: current !== undefined,
    current: current ?? freshState(desired),
    desired,
    objects: changes.objects,
    ...(backup ? { backupName: backup } : {}),
    grantRecords: input.grants.pending,
    ...(preSwitch ? { preSwitch: preSwitch.site } : {})
  }
}

/** The steps a plan runs against IIS, in order (apply walks exactly these). */
export function iisSteps(plan: DeployPlan): Step[] {
  return plan.steps.filter(step => IIS_PHASES.has(step.phase))
}
