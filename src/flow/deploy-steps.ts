/** The deploy flow after staging: plan, the SP config, apply to IIS, recycle for the SP, verify, mark live. */
import { asError, PhaseError } from '../errors.js'
import { applyPlan, type ApplyResult } from '../iis/apply.js'
import { Appcmd } from '../iis/appcmd.js'
import type { CurrentState } from '../iis/state.js'
import { planDocument, deployPlanFor, writePlan } from '../plan/plan-output.js'
import { markRelease, previousRelease, pruneReleases, readRelease, writeRelease } from '../releases.js'
import { applyShibboleth, type ShibbolethApplied } from '../shibboleth/apply.js'
import type { Log } from '../log.js'
import { planLeaveShibboleth, planShibboleth } from '../shibboleth/plan.js'
import { leaveShibboleth, leaveTarget, recordedEntries } from '../shibboleth/leave.js'
import { settleFastCgi } from '../iis/fastcgi-record.js'
import { deployedSettings } from '../rollback/deployed-settings.js'
import { warmUpRequest } from '../verify/warm-up.js'
import { afterFailedApply, recordSpWrite, startJournal } from '../journal/deploy-journal.js'
import { recycleSitePools, type RecycleResult } from '../shibboleth/recycle.js'
import { shibbolethTarget } from '../shibboleth/target.js'
import { unverifiedNotice, unverifiedServed } from '../unverified-release.js'
import { runChecks, verifyPlan, type UrlCheckResult } from '../verify/checks.js'
import { verifyTargets, type StaticTarget } from '../verify/targets.js'
import { warn, type RunContext } from './context.js'
import { planMigrations } from './database-steps.js'
import { checkBeforeSwitch, preSwitchFor } from './pre-switch.js'
import { stagedOf } from './stage-steps.js'
import type { Step } from './steps.js'

/** The IIS state the Read IIS step found. */
export function currentOf(ctx: RunContext): CurrentState {
  if (!ctx.current) throw new Error('deploy mode reached apply without reading IIS')
  return ctx.current
}

/** Checks the release `target` describes: after a rollback, the restored one. */
export async function verifyRelease(ctx: RunContext, target: StaticTarget, title: string): Promise<UrlCheckResult[]> {
  const { config, log } = ctx
  const plan = verifyPlan(config.verify, verifyTargets(config, target, currentOf(ctx).site.id))
  return log.group(title, () => runChecks(plan, log))
}

/** Recycles the site's pools after the SP file changed for them; failures warn, and verify's SSO handler check judges. */
export async function recycleForSp(ctx: RunContext, alreadyRecycled: readonly string[] = []): Promise<RecycleResult> {
  const appcmd = new Appcmd({ runner: ctx.runner, log: ctx.log, path: ctx.config.appcmd })
  const result = await recycleSitePools(appcmd, ctx.log, ctx.config.siteName, alreadyRecycled)
  for (const failure of result.failed)
    warn(ctx, `The Shibboleth IIS module may still map the site with a stale <ISAPI> site list: ${failure}`)
  return result
}

/** Restores the SP config, reporting instead of throwing, so the IIS rollback's own result is never lost. */
export async function restoreShibboleth(applied: ShibbolethApplied, log: Log): Promise<string | undefined> {
  try {
    await applied.restore()
    return undefined
  } catch (error) {
    const message = `shibboleth2.xml (${asError(error).message})`
    log.warning(`Could not restore ${message}`)
    return message
  }
}

/** Pools the IIS apply recycled (after the SP change, which comes first), so they are not recycled twice. */
function poolsRecycledBy(applied: ApplyResult): string[] {
  return applied.operations
    .filter(op => op.argv[0] === 'recycle' && op.argv[1] === 'apppool')
    .map(op => (op.argv[2] ?? '').replace(/^\/apppool\.name:/i, ''))
}

export const planDeploy: Step = {
  name: 'Plan',
  run: async ctx => {
    const { config, log, templates } = ctx
    const staged = stagedOf(ctx)
    // The FastCGI registration is read once the release is known (from Stage on), unless the record vouches for it.
    const appcmd = new Appcmd({ runner: ctx.runner, log, path: config.appcmd })
    const current = await (ctx.settled ?? settleFastCgi(appcmd, log, currentOf(ctx), staged.desired, staged.releaseReused))
    ctx.current = current
    const sp = config.shibboleth.enabled
      ? planShibboleth(shibbolethTarget(config, current.site.id), config.outputDir, templates)
      : planLeaveShibboleth(leaveTarget(config), config.outputDir)
    // The plan a deploy shows is the plan it runs: built once, here, and handed to apply.
    const plan = await deployPlanFor(config, staged.desired, current, sp, await preSwitchFor(ctx), ctx.restorePoint?.name)
    const shown = { ...planDocument(config, staged.facts.releaseId, plan, ctx.files), ...planMigrations(ctx) }
    ctx.sp = sp
    ctx.plan = plan
    ctx.planPath = writePlan(
      config,
      log,
      sp ? { ...shown, shibboleth: { file: config.shibboleth.configPath, changed: sp.changed, diff: sp.diff } } : shown
    )
  }
}

export const applySp: Step = {
  name: 'Shibboleth',
  phase: 'grouped',
  // Leaving auth: shibboleth, the RequestMap entry an earlier deploy added would keep the SP demanding a session.
  when: ctx => ctx.config.shibboleth.enabled || recordedEntries(leaveTarget(ctx.config)).length > 0,
  run: async ctx => {
    const { config, runner, log, templates } = ctx
    // Recorded in the run journal before the file is written, so a run killed mid-change is undone by the next.
    const plan = ctx.plan
    const releaseId = stagedOf(ctx).facts.releaseId
    const beforeWrite = recordSpWrite(() => (ctx.journal ??= plan && startJournal(ctx.layout, plan, releaseId, true)), config.deployRoot)
    try {
      if (!config.shibboleth.enabled) {
        ctx.shibboleth = await leaveShibboleth({ ...leaveTarget(config), runner, log, keepBackups: config.keepBackups, beforeWrite })
        return
      }
      // Before IIS: a config the SP's own check rejects is restored and stops the run with IIS untouched.
      const target = shibbolethTarget(config, currentOf(ctx).site.id)
      ctx.shibboleth = await applyShibboleth({
        ...target,
        runner,
        log,
        templates,
        keepBackups: config.keepBackups,
        deployRoot: config.deployRoot,
        beforeWrite
      })
    } catch (error) {
      // The SP's check or restart refused the change and the prior file is back: nothing is left to recover.
      if (error instanceof PhaseError && error.phase === 'shibboleth') ctx.journal?.close()
      throw error
    }
  }
}

export const noteUnverified: Step = {
  name: 'Note a live release that never passed verify',
  run: ctx => {
    const { config } = ctx
    // A release IIS serves that never passed verify is not a state to go back to (src/unverified-release.ts).
    const target = { site: config.siteName, appPath: config.appPath }
    ctx.unverified = unverifiedServed(ctx.layout, currentOf(ctx).app.physicalPath, target)
    if (ctx.unverified) warn(ctx, unverifiedNotice(ctx.unverified, stagedOf(ctx).facts.releaseId))
  }
}

export const applyIis: Step = {
  name: 'Apply',
  run: async ctx => {
    const { config, runner, log } = ctx
    if (!ctx.plan) throw new Error('deploy mode reached apply without a plan')
    const plan = ctx.plan
    // What this run is about to do, then each step as it ends: the next run recovers from it if this one stops.
    // The SP step may have opened it already, for its own change.
    const journal = ctx.journal ?? startJournal(ctx.layout, plan, stagedOf(ctx).facts.releaseId)
    ctx.journal = journal
    try {
      ctx.applied = await ctx.phases.run('Apply', () =>
        applyPlan(
          {
            runner,
            log,
            appcmdPath: config.appcmd,
            icaclsPath: config.icacls,
            checkBeforeSwitch: checkBeforeSwitch(ctx, stagedStaticTarget(ctx), currentOf(ctx).site.id),
            ...(ctx.restorePoint ? { restorePoint: ctx.restorePoint } : {})
          },
          plan,
          journal
        )
      )
      journal?.applied()
    } catch (error) {
      // IIS was restored by apply itself; the SP config changed before it must follow.
      const failed = ctx.shibboleth?.changed ? await restoreShibboleth(ctx.shibboleth, log) : undefined
      if (ctx.shibboleth?.changed) ctx.restored = { ok: !failed, restoredAnything: true }
      if (failed) {
        // IIS went back but the SP config did not: the run must not report a clean rollback, and the journal stays.
        throw new PhaseError(
          'apply',
          `${asError(error).message}; NOT restored: ${failed}`,
          error instanceof PhaseError ? error.hint : undefined,
          { cause: error, rolledBack: false }
        )
      }
      afterFailedApply(journal, error)
      throw error
    }
  }
}

export const recycleSp: Step = {
  name: 'Recycle for the SP',
  phase: 'grouped',
  when: ctx => Boolean(ctx.shibboleth?.recycleReason),
  run: async ctx => {
    // The IIS module keeps the site list its workers started with; the root app's pool serves /Shibboleth.sso/*.
    ctx.log.info(`Recycling the app pools of site ${ctx.config.siteName}: ${ctx.shibboleth?.recycleReason}.`)
    const recycled = await recycleForSp(ctx, ctx.applied ? poolsRecycledBy(ctx.applied) : [])
    ctx.recycledPools = recycled.recycled
  }
}

/** What verify checks of the staged release. */
export function stagedStaticTarget(ctx: RunContext): StaticTarget {
  const staged = stagedOf(ctx)
  return {
    files: staged.staticFiles,
    ...(staged.staticCheckUrl ? { checkUrl: staged.staticCheckUrl } : {}),
    elsewhere: staged.desired.staticLocation.kind === 'elsewhere'
  }
}

/** The recycle ran as the plan's last IIS step: start the new worker now, before verify and the first visitor. */
export const warmUp: Step = {
  name: 'Warm up',
  phase: 'plain',
  when: ctx => ctx.config.warmUp,
  run: async ctx => {
    await warmUpRequest(ctx.config.verify, { log: ctx.log })
  }
}

export const verify: Step = {
  name: 'Verify',
  phase: 'plain',
  run: async ctx => {
    ctx.checks = await verifyRelease(ctx, stagedStaticTarget(ctx), 'Verify')
  }
}

export const verified = (ctx: RunContext): boolean => ctx.checks.every(c => c.ok)

export const markLive: Step = {
  name: 'Mark the release live',
  when: verified,
  run: ctx => {
    const { config, layout, log, unverified } = ctx
    const releaseId = stagedOf(ctx).facts.releaseId
    // The release is live and verified: housekeeping that fails (a file held open on Windows) only warns.
    try {
      if (readRelease(layout, releaseId)?.state !== 'live') {
        markRelease(layout, releaseId, 'live')
        if (unverified?.id === releaseId) log.info(`Release ${unverified.id} passed verify this time: it is marked live`)
      }
      // What a later rollback to this release applies again (this run's variables, secrets by name only).
      const marked = readRelease(layout, releaseId)
      if (marked) writeRelease(layout, { ...marked, deployedWith: deployedSettings(config, stagedOf(ctx).facts) })
      const target = { site: config.siteName, appPath: config.appPath }
      const previous = previousRelease(layout, releaseId, target)
      const pruned = pruneReleases(layout, config.keepReleases, releaseId, previous?.id, target)
      if (pruned.removedReleases.length > 0) log.info(`Removed old releases: ${pruned.removedReleases.join(', ')}`)
      if (pruned.removedVenvs.length > 0) log.info(`Removed unused venvs: ${pruned.removedVenvs.join(', ')}`)
      for (const left of pruned.notRemoved) warn(ctx, `release ${releaseId} is live; an old release or venv: ${left}`)
    } catch (error) {
      warn(ctx, `release ${releaseId} is live, but cleaning up old releases failed: ${asError(error).message}`)
    }
    // Verify passed: the run ended well. Closed after the release was marked live, so a run stopped in between
    // is seen as verified by the next run's recovery (src/journal/recover.ts).
    ctx.journal?.close()
    // The release IIS already served was never verified before: the run's last line must not call it verified.
    ctx.reverified = unverified?.id === releaseId
  }
}

/** Whether this run changed the server: a release built, or IIS or the SP config written. */
export function changedBy(ctx: RunContext): boolean {
  if (!ctx.stage) return false
  return !ctx.stage.releaseReused || Boolean(ctx.applied && (ctx.applied.changed || ctx.shibboleth?.changed))
}
