/** Deploy mode after staging: the SP config, apply to IIS, verify, and the rollback when verify fails. */
import fs from 'node:fs'
import type { DeployConfig } from './config.js'
import { evidenceFromChecks, reportDiagnosis, tailFile, type Evidence } from './diagnose.js'
import { asError, PhaseError } from './errors.js'
import { applyPlan, type ApplyResult } from './iis/apply.js'
import type { DeployPlan } from './plan/build.js'
import { Appcmd } from './iis/appcmd.js'
import type { CurrentState } from './iis/state.js'
import { layoutFor } from './layout.js'
import type { Log } from './log.js'
import type { Phases } from './phases.js'
import type { ProcessRunner } from './process.js'
import { markRelease, previousRelease, pruneReleases, readRelease, readReleaseAt } from './releases.js'
import type { TemplateSet } from './render/templates.js'
import type { RunReport } from './report.js'
import { afterFailedApply, startJournal } from './journal/deploy-journal.js'
import { applyShibboleth, type ShibbolethApplied } from './shibboleth/apply.js'
import { decodeXml } from './shibboleth/encoding.js'
import { rollBackPastUnverified, unverifiedNotice, unverifiedServed, type PastUnverified } from './unverified-release.js'
import { sessionHandlerPath } from './shibboleth/patch.js'
import { recycleSitePools, type RecycleResult } from './shibboleth/recycle.js'
import { shibbolethTarget } from './shibboleth/target.js'
import type { StageResult } from './stage.js'
import { urlFromBindings } from './verify/binding-url.js'
import {
  contentTypeFor,
  pickStaticFile,
  runChecks,
  staticUrl,
  verifyPlan,
  type UrlCheckResult,
  type SsoHandlerTarget,
  type VerifyPlan
} from './verify/checks.js'

export interface DeployDeps {
  runner: ProcessRunner
  log: Log
}

interface DeployOutcome {
  applied?: ApplyResult
  shibboleth?: ShibbolethApplied
}

/** The SP's Session handler on the verified site: `<handlerURL path>/Session`, /Shibboleth.sso/Session by default. */
function ssoHandlerTarget(config: VerifyTargetConfig, siteId: number): SsoHandlerTarget {
  let handlerPath = '/Shibboleth.sso'
  try {
    handlerPath = sessionHandlerPath(decodeXml(fs.readFileSync(config.shibboleth.configPath)).text)
  } catch {
    // No file to read: the SP's default handler path.
  }
  return { url: new URL(`${handlerPath}/Session`, config.verify.url).href, siteId, host: config.shibboleth.host }
}

/** What verify checks of one release's static files: a collected file at the URL its pages link. */
export interface StaticTarget {
  files: readonly string[]
  /** The URL the preflight saw the app render for the file verify picks (a path on the site, or absolute). */
  checkUrl?: string
  /** The files are served elsewhere (static-served-elsewhere): nothing of ours to check. */
  elsewhere: boolean
}

/** What of the config the verify targets depend on. */
export type VerifyTargetConfig = Pick<DeployConfig, 'appPath' | 'verify'> &
  Partial<Pick<DeployConfig, 'auth'>> & {
    shibboleth: Pick<DeployConfig['shibboleth'], 'enabled' | 'configPath' | 'host'>
  }

export function verifyTargets(
  config: VerifyTargetConfig,
  target: StaticTarget,
  siteId: number
): Pick<VerifyPlan, 'staticFile' | 'protectedPath' | 'ssoHandler' | 'windowsAuth'> {
  const sso = config.shibboleth.enabled
  const file = pickStaticFile([...target.files])
  // A release staged before the rendered URL was recorded served its files at <app>/static.
  const url = target.checkUrl
    ? new URL(target.checkUrl, config.verify.url).toString()
    : file
      ? staticUrl(new URL(config.appPath, config.verify.url).toString(), '/static', file)
      : undefined
  return {
    // Static files live under the protected path too, so with SSO they redirect like the app does.
    ...(file && url && !sso && !target.elsewhere ? { staticFile: { url, expectedContentType: contentTypeFor(file) } } : {}),
    ...(sso ? { protectedPath: { url: config.verify.url }, ssoHandler: ssoHandlerTarget(config, siteId) } : {}),
    ...(config.auth === 'windows' ? { windowsAuth: true } : {})
  }
}

/** `target` is the release being checked: after a rollback, the restored one. */
async function verify(
  deps: DeployDeps,
  config: DeployConfig,
  target: StaticTarget,
  siteId: number,
  title: string
): Promise<UrlCheckResult[]> {
  return deps.log.group(title, () => runChecks(verifyPlan(config.verify, verifyTargets(config, target, siteId)), deps.log))
}

/** Pools the IIS apply recycled (after the SP change, which comes first), so they are not recycled twice. */
function poolsRecycledBy(applied: ApplyResult): string[] {
  return applied.operations
    .filter(op => op.argv[0] === 'recycle' && op.argv[1] === 'apppool')
    .map(op => (op.argv[2] ?? '').replace(/^\/apppool\.name:/i, ''))
}

/** Recycles the site's pools after the SP file changed for them; failures warn, and verify's SSO handler check judges. */
async function recycleForSp(
  deps: DeployDeps,
  config: DeployConfig,
  report: RunReport,
  alreadyRecycled: readonly string[] = []
): Promise<RecycleResult> {
  const appcmd = new Appcmd({ runner: deps.runner, log: deps.log, path: config.appcmd })
  const result = await recycleSitePools(appcmd, deps.log, config.siteName, alreadyRecycled)
  for (const failure of result.failed) {
    const message = `The Shibboleth IIS module may still map the site with a stale <ISAPI> site list: ${failure}`
    deps.log.warning(message)
    report.warnings.push(message)
  }
  return result
}

/** Restores the SP config, reporting instead of throwing, so the IIS rollback's own result is never lost. */
async function restoreShibboleth(applied: ShibbolethApplied, log: Log): Promise<string | undefined> {
  try {
    await applied.restore()
    return undefined
  } catch (error) {
    const message = `shibboleth2.xml (${asError(error).message})`
    log.warning(`Could not restore ${message}`)
    return message
  }
}

/** The static files of the release a physical path serves, from its manifest; none when it is not ours. */
function staticTargetAt(physicalPath: string | undefined, elsewhere: boolean): StaticTarget {
  const meta = physicalPath ? readReleaseAt(physicalPath) : undefined
  return { files: meta?.staticFiles ?? [], ...(meta?.staticCheckUrl ? { checkUrl: meta.staticCheckUrl } : {}), elsewhere }
}

function serverEvidence(config: DeployConfig, checks: UrlCheckResult[]): Evidence[] {
  const layout = layoutFor(config.deployRoot)
  const logs = config.hosting === 'fastcgi' ? { wsgiLogTail: tailFile(layout.wsgiLog) } : {}
  return evidenceFromChecks(checks, { ...logs, hostHeader: config.verify.hostHeader || undefined })
}

/** With verify-url empty, the URL (and the SSO host that follows it) comes from the site's first http(s) binding. */
export function withBindingUrl(config: DeployConfig, current: CurrentState, log: Log): DeployConfig {
  if (!config.verify.urlFromBinding) return config
  const url = urlFromBindings(current.site.bindings, config.appPath)
  if (!url) {
    log.warning(
      `Site ${config.siteName} has no http or https binding; verifying ${config.verify.url}. Set verify-url to check another address.`
    )
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
  plan: DeployPlan,
  templates: TemplateSet,
  report: RunReport,
  phases: Phases
): Promise<{ reverified: boolean }> {
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
  const siteId = current.site.id
  // A release IIS serves that never passed verify is not a state to go back to (src/unverified-release.ts).
  const unverified = unverifiedServed(layout, current.app.physicalPath, { site: config.siteName, appPath: config.appPath })
  if (unverified) {
    const notice = unverifiedNotice(unverified, stage.facts.releaseId)
    log.warning(notice)
    report.warnings.push(notice)
  }

  // What this run is about to do, then each step as it ends: the next run recovers from it if this one stops.
  const journal = startJournal(layout, plan, stage.facts.releaseId)
  try {
    outcome.applied = await phases.run('Apply', () =>
      applyPlan({ runner, log, appcmdPath: config.appcmd, icaclsPath: config.icacls }, plan, journal)
    )
    journal?.applied()
  } catch (error) {
    afterFailedApply(journal, error)
    // IIS was restored by apply itself; the SP config changed before it must follow.
    const failed = outcome.shibboleth?.changed ? await restoreShibboleth(outcome.shibboleth, log) : undefined
    if (failed) {
      // IIS went back but the SP config did not: the run must not report a clean rollback.
      throw new PhaseError(
        'apply',
        `${asError(error).message}; NOT restored: ${failed}`,
        error instanceof PhaseError ? error.hint : undefined,
        { cause: error, rolledBack: false }
      )
    }
    if (outcome.shibboleth?.changed) report.rolledBack = true
    throw error
  }
  const applied = outcome.applied
  report.objects = applied.objects
  report.operations = applied.operations.filter(op => op.mutates)
  report.changed = report.changed || applied.changed || Boolean(outcome.shibboleth?.changed)

  const recycleReason = outcome.shibboleth?.recycleReason
  if (recycleReason && report.shibboleth) {
    // The IIS module keeps the site list its workers started with; the root app's pool serves /Shibboleth.sso/*.
    log.info(`Recycling the app pools of site ${config.siteName}: ${recycleReason}.`)
    const recycled = await phases.run('Recycle for the SP', () => recycleForSp(deps, config, report, poolsRecycledBy(applied)))
    report.shibboleth.recycledPools = recycled.recycled
  }

  const elsewhere = stage.desired.staticLocation.kind === 'elsewhere'
  const staticTarget: StaticTarget = {
    files: stage.staticFiles,
    ...(stage.staticCheckUrl ? { checkUrl: stage.staticCheckUrl } : {}),
    elsewhere
  }
  const checks = await phases.run('Verify', () => verify(deps, config, staticTarget, siteId, 'Verify'), false)
  report.checks = checks
  if (checks.every(c => c.ok)) {
    // The release is live and verified: housekeeping that fails (a file held open on Windows) only warns.
    try {
      if (readRelease(layout, stage.facts.releaseId)?.state !== 'live') {
        markRelease(layout, stage.facts.releaseId, 'live')
        if (unverified?.id === stage.facts.releaseId) log.info(`Release ${unverified.id} passed verify this time: it is marked live`)
      }
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
    // Verify passed: the run ended well. Closed after the release was marked live, so a run stopped in between
    // is seen as verified by the next run's recovery (src/journal/recover.ts).
    journal?.close()
    // The release IIS already served was never verified before: the run's last line must not call it verified.
    return { reverified: unverified?.id === stage.facts.releaseId }
  }

  // Verify failed: put the previous state back, prove it, then fail with both results.
  report.hints = await reportDiagnosis(log, serverEvidence(config, checks))
  const failedChecks = checks
    .filter(c => !c.ok)
    .map(c => `${c.name}: ${c.detail}`)
    .join('; ')
  const rollback = await phases.run('Rollback', async () => {
    const rb: PastUnverified = unverified
      ? await rollBackPastUnverified(
          { runner, log, appcmdPath: config.appcmd, icaclsPath: config.icacls },
          config,
          layout,
          stage.facts,
          unverified,
          applied
        )
      : await applied.rollback()
    if (outcome.shibboleth?.changed) {
      const failed = await restoreShibboleth(outcome.shibboleth, log)
      if (failed) rb.failed.push(failed)
      else rb.restored.push('shibboleth2.xml')
      rb.ok = rb.ok && !failed
      if (!failed && outcome.shibboleth.recycleReason) {
        // Workers started since the change hold the patched site list: restart them on the restored file.
        const again = await recycleForSp(deps, config, report)
        if (again.recycled.length > 0) rb.restored.push(`IIS module site list (recycled ${again.recycled.join(', ')})`)
      }
    }
    return rb
  })
  const restoredAnything = applied.changed || Boolean(outcome.shibboleth?.changed) || Boolean(unverified)
  report.rolledBack = restoredAnything && rollback.ok
  const detail = rollback.ok ? rollback.restored.join('; ') || 'nothing needed restoring' : `NOT restored: ${rollback.failed.join('; ')}`
  // The restored backup brings back the vdir the restored release's STATIC_URL needed; its own URL is checked.
  const restoredDir = rollback.restoredRelease ? layout.releaseDir(rollback.restoredRelease.id) : applied.previousPhysicalPath
  const previousStatic = staticTargetAt(restoredDir, elsewhere)
  const again = restoredAnything
    ? await phases.run('Verify restored release', () => verify(deps, config, previousStatic, siteId, 'Verify restored release'), false)
    : []
  report.rollback = { ok: rollback.ok, detail, checks: again }
  // A rollback that restored everything ends the run well; one that did not leaves the journal to recover from.
  if (rollback.ok) journal?.close()
  // A release that was already live and verified before this run stays as it was: this run did not make it so.
  if (applied.changed || unverified?.id === stage.facts.releaseId) markRelease(layout, stage.facts.releaseId, 'failed')
  const restoredState =
    again.length === 0 ? '' : again.every(c => c.ok) ? ' The restored release passes verify.' : ' The restored release fails verify too.'
  throw new PhaseError('verify', `verify failed (${failedChecks}); rolled back: ${detail}.${restoredState}`)
}
