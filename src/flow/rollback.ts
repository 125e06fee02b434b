/**
 * A failed verify undoes the deploy steps in reverse: IIS (apply's backup, or past a release that never passed
 * verify), then the SP config and the recycle that followed it; then verifies what was restored.
 */
import { reportDiagnosis } from '../diagnose.js'
import { PhaseError } from '../errors.js'
import { markRelease } from '../releases.js'
import { rollBackPastUnverified, type PastUnverified } from '../unverified-release.js'
import { staticTargetAt } from '../verify/targets.js'
import type { RunContext } from './context.js'
import { recycleForSp, restoreShibboleth, stagedStaticTarget, verified, verifyRelease } from './deploy-steps.js'
import { restoreDatabase } from './database-steps.js'
import { serverEvidence } from './pre-switch.js'
import { stagedOf } from './stage-steps.js'
import type { Step } from './steps.js'

async function undoDeploy(ctx: RunContext): Promise<PastUnverified> {
  const { config, runner, log, layout, unverified, applied, shibboleth } = ctx
  if (!applied) throw new Error('rollback reached without an apply')
  const rb: PastUnverified = unverified
    ? await rollBackPastUnverified(
        { runner, log, appcmdPath: config.appcmd, icaclsPath: config.icacls },
        config,
        layout,
        stagedOf(ctx).facts,
        unverified,
        applied
      )
    : await applied.rollback()
  if (shibboleth?.changed) {
    const failed = await restoreShibboleth(shibboleth, log)
    if (failed) rb.failed.push(failed)
    else rb.restored.push('shibboleth2.xml')
    rb.ok = rb.ok && !failed
    if (!failed && shibboleth.recycleReason) {
      // Workers started since the change hold the patched site list: restart them on the restored file.
      const again = await recycleForSp(ctx)
      if (again.recycled.length > 0) rb.restored.push(`IIS module site list (recycled ${again.recycled.join(', ')})`)
    }
  }
  // After IIS: the restored release is live again, and it must find the schema it was built for.
  const database = await restoreDatabase(ctx)
  if (database) {
    ;(database.ok ? rb.restored : rb.failed).push(database.text)
    rb.ok = rb.ok && database.ok
  }
  return rb
}

/** Verify failed: put the previous state back, prove it, then fail with both results. */
export const rollBackFailedVerify: Step = {
  name: 'Roll back a failed verify',
  when: ctx => !verified(ctx),
  run: async ctx => {
    const { log, layout, checks, unverified } = ctx
    const applied = ctx.applied
    if (!applied) throw new Error('rollback reached without an apply')
    const releaseId = stagedOf(ctx).facts.releaseId
    ctx.hints = await reportDiagnosis(log, serverEvidence(ctx, checks))
    const failedChecks = checks
      .filter(c => !c.ok)
      .map(c => `${c.name}: ${c.detail}`)
      .join('; ')
    const rollback = await ctx.phases.run('Rollback', () => undoDeploy(ctx))
    const restoredAnything = applied.changed || Boolean(ctx.shibboleth?.changed) || Boolean(unverified)
    ctx.restored = { ok: rollback.ok, restoredAnything }
    const detail = rollback.ok ? rollback.restored.join('; ') || 'nothing needed restoring' : `NOT restored: ${rollback.failed.join('; ')}`
    // The restored backup brings back the vdir the restored release's STATIC_URL needed; its own URL is checked.
    const restoredDir = rollback.restoredRelease ? layout.releaseDir(rollback.restoredRelease.id) : applied.previousPhysicalPath
    const previousStatic = staticTargetAt(restoredDir, stagedStaticTarget(ctx).elsewhere)
    const title = 'Verify restored release'
    const again = restoredAnything ? await ctx.phases.run(title, () => verifyRelease(ctx, previousStatic, title), false) : []
    ctx.rollback = { ok: rollback.ok, detail, checks: again }
    // A rollback that restored everything ends the run well; one that did not leaves the journal to recover from.
    if (rollback.ok) ctx.journal?.close()
    // A release that was already live and verified before this run stays as it was: this run did not make it so.
    if (applied.changed || unverified?.id === releaseId) markRelease(layout, releaseId, 'failed')
    const restoredState =
      again.length === 0 ? '' : again.every(c => c.ok) ? ' The restored release passes verify.' : ' The restored release fails verify too.'
    throw new PhaseError('verify', `verify failed (${failedChecks}); rolled back: ${detail}.${restoredState}`)
  }
}
