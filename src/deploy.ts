/** Deploy mode after staging: the SP config, apply to IIS, verify, and the rollback when verify fails. */
import type { DeployConfig } from './config.js'
import { evidenceFromChecks, reportDiagnosis, tailFile, type Evidence } from './diagnose.js'
import { asError, PhaseError } from './errors.js'
import { applyRelease, type ApplyResult } from './iis/apply.js'
import type { CurrentState } from './iis/state.js'
import { layoutFor } from './layout.js'
import type { Log } from './log.js'
import type { Phases } from './phases.js'
import { STATIC_VDIR } from './plan/desired.js'
import type { ProcessRunner } from './process.js'
import { markRelease, previousRelease, pruneReleases, readRelease, readReleaseAt } from './releases.js'
import type { TemplateSet } from './render/templates.js'
import type { RunReport } from './report.js'
import { applyShibboleth, type ShibbolethApplied } from './shibboleth/apply.js'
import { shibbolethTarget } from './shibboleth/target.js'
import type { StageResult } from './stage.js'
import { urlFromBindings } from './verify/binding-url.js'
import { contentTypeFor, pickStaticFile, runChecks, staticUrl, verifyPlan, type CheckResult } from './verify/checks.js'

export interface DeployDeps {
  runner: ProcessRunner
  log: Log
}

interface DeployOutcome {
  applied?: ApplyResult
  shibboleth?: ShibbolethApplied
}

function verifyTargets(config: DeployConfig, staticFiles: readonly string[]): Parameters<typeof verifyPlan>[1] {
  const sso = config.shibboleth.enabled
  const file = pickStaticFile([...staticFiles])
  return {
    // Static files live under the protected path too, so with SSO they redirect like the app does.
    ...(file && !sso ? { staticFile: { url: staticUrl(config.verify.url, STATIC_VDIR, file), expectedContentType: contentTypeFor(file) } } : {}),
    ...(sso ? { protectedPath: { url: config.verify.url } } : {})
  }
}

/** `staticFiles` are those of the release being checked: after a rollback, the restored one's. */
async function verify(deps: DeployDeps, config: DeployConfig, staticFiles: readonly string[], title: string): Promise<CheckResult[]> {
  return deps.log.group(title, () => runChecks(verifyPlan(config.verify, verifyTargets(config, staticFiles)), deps.log))
}

/** Restores the SP config, reporting instead of throwing, so the IIS rollback's own result is never lost. */
async function restoreShibboleth(applied: ShibbolethApplied, log: Log): Promise<string | undefined> {
  try {
    await applied.restore()
    return undefined
  } catch (error) {
    const message = `shibboleth2.xml (${asError(error).message})`
    log.error(`Could not restore ${message}`)
    return message
  }
}

/** The collected files of the release a physical path serves, from its manifest; none when it is not ours. */
function staticFilesAt(physicalPath: string | undefined): string[] {
  return (physicalPath && readReleaseAt(physicalPath)?.staticFiles) || []
}

function serverEvidence(config: DeployConfig, checks: CheckResult[]): Evidence[] {
  const layout = layoutFor(config.deployRoot)
  const logs = config.hosting === 'fastcgi' ? { wsgiLogTail: tailFile(layout.wsgiLog) } : {}
  return evidenceFromChecks(checks, { ...logs, hostHeader: config.verify.hostHeader || undefined })
}

/** With verify-url empty, the URL (and the SSO host that follows it) comes from the site's first http(s) binding. */
export function withBindingUrl(config: DeployConfig, current: CurrentState, log: Log): DeployConfig {
  if (!config.verify.urlFromBinding) return config
  const url = urlFromBindings(current.site.bindings, config.appPath)
  if (!url) {
    log.warning(`Site ${config.siteName} has no http or https binding; verifying ${config.verify.url}. Set verify-url to check another address.`)
    return config
  }
  log.info(`verify-url not set: checking ${url}, from the site's binding`)
  const host = config.shibboleth.hostFromVerifyUrl ? new URL(url).hostname : config.shibboleth.host
  return { ...config, verify: { ...config.verify, url }, shibboleth: { ...config.shibboleth, host } }
}

export async function deployMode(
  deps: DeployDeps,
  config: DeployConfig,
  stage: StageResult,
  current: CurrentState,
  templates: TemplateSet,
  report: RunReport,
  phases: Phases
): Promise<void> {
  const { log, runner } = deps
  const outcome: DeployOutcome = {}
  const layout = layoutFor(config.deployRoot)

  if (config.shibboleth.enabled) {
    // Before IIS: a config the SP's own check rejects is restored and stops the run with IIS untouched.
    outcome.shibboleth = await phases.run('Shibboleth', () =>
      applyShibboleth({ ...shibbolethTarget(config, current.site.id), runner, log, templates, keepBackups: config.keepBackups })
    )
    report.shibboleth = { changed: outcome.shibboleth.changed, restarted: outcome.shibboleth.changed }
  }

  try {
    outcome.applied = await phases.run('Apply', () =>
      applyRelease({ runner, log, appcmdPath: config.appcmd, icaclsPath: config.icacls }, { config, desired: stage.desired, lockHeld: true, current })
    )
  } catch (error) {
    // IIS was restored by apply itself; the SP config changed before it must follow.
    const failed = outcome.shibboleth?.changed ? await restoreShibboleth(outcome.shibboleth, log) : undefined
    if (failed) {
      // IIS went back but the SP config did not: the run must not report a clean rollback.
      throw new PhaseError('apply', `${asError(error).message}; NOT restored: ${failed}`, error instanceof PhaseError ? error.hint : undefined, { cause: error, rolledBack: false })
    }
    if (outcome.shibboleth?.changed) report.rolledBack = true
    throw error
  }
  const applied = outcome.applied
  report.objects = applied.objects
  report.changed = report.changed || applied.changed || Boolean(outcome.shibboleth?.changed)

  const checks = await phases.run('Verify', () => verify(deps, config, stage.staticFiles, 'Verify'), false)
  report.checks = checks
  if (checks.every(c => c.ok)) {
    // The release is live and verified: housekeeping that fails (a file held open on Windows) only warns.
    try {
      if (readRelease(layout, stage.facts.releaseId)?.state !== 'live') markRelease(layout, stage.facts.releaseId, 'live')
      const target = { site: config.siteName, appPath: config.appPath }
      const previous = previousRelease(layout, stage.facts.releaseId, target)
      const pruned = pruneReleases(layout, config.keepReleases, stage.facts.releaseId, previous?.id, target)
      if (pruned.removedReleases.length > 0) log.info(`Removed old releases: ${pruned.removedReleases.join(', ')}`)
      if (pruned.removedVenvs.length > 0) log.info(`Removed unused venvs: ${pruned.removedVenvs.join(', ')}`)
    } catch (error) {
      const message = `release ${stage.facts.releaseId} is live, but cleaning up old releases failed: ${asError(error).message}`
      log.warning(message)
      report.warnings.push(message)
    }
    return
  }

  // Verify failed: put the previous state back, prove it, then fail with both results.
  report.hints = await reportDiagnosis(log, serverEvidence(config, checks))
  const failedChecks = checks.filter(c => !c.ok).map(c => `${c.name}: ${c.detail}`).join('; ')
  const rollback = await phases.run('Rollback', async () => {
    const rb = await applied.rollback()
    if (outcome.shibboleth?.changed) {
      const failed = await restoreShibboleth(outcome.shibboleth, log)
      if (failed) rb.failed.push(failed)
      else rb.restored.push('shibboleth2.xml')
      rb.ok = rb.ok && !failed
    }
    return rb
  })
  const restoredAnything = applied.changed || Boolean(outcome.shibboleth?.changed)
  report.rolledBack = restoredAnything && rollback.ok
  const detail = rollback.ok ? rollback.restored.join('; ') || 'nothing needed restoring' : `NOT restored: ${rollback.failed.join('; ')}`
  const previousStatic = staticFilesAt(applied.previousPhysicalPath)
  const again = restoredAnything ? await phases.run('Verify restored release', () => verify(deps, config, previousStatic, 'Verify restored release'), false) : []
  report.rollback = { ok: rollback.ok, detail, checks: again }
  // A release that was already live before this run stays as it was: this run did not make it so.
  if (applied.changed) markRelease(layout, stage.facts.releaseId, 'failed')
  const restoredState = again.length === 0 ? '' : again.every(c => c.ok) ? ' The restored release passes verify.' : ' The restored release fails verify too.'
  throw new PhaseError('verify', `verify failed (${failedChecks}); rolled back: ${detail}.${restoredState}`)
}
