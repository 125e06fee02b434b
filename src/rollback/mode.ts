/**
 * mode: rollback. Puts the app back on an earlier verified release with the IIS settings it was deployed with,
 * verifies it, and when it fails verify applies the release that was live again and fails (docs/rollback.md).
 * Nothing is built: no staging, no pip.
 */
import fs from 'node:fs'
import type { DeployConfig } from '../config.js'
import { claimDeployRoot } from '../deploy-root-claim.js'
import { asError, InputError, PhaseError } from '../errors.js'
import { recordRun } from '../history/record.js'
import { applyPlan, type ApplyDeps, type ApplyResult } from '../iis/apply.js'
import { Appcmd } from '../iis/appcmd.js'
import { acquireLock, type TargetLock } from '../iis/lock.js'
import { readStateAt, type CurrentState } from '../iis/state.js'
import { requireProgram } from '../inputs/programs.js'
import { layoutFor, type Layout } from '../layout.js'
import type { Log } from '../log.js'
import type { ProcessRunner } from '../process.js'
import type { Phases } from '../phases.js'
import { desiredState, stateQuery, type StageFacts } from '../plan/desired.js'
import { deployPlanFor, planDocument, writePlan } from '../plan/plan-output.js'
import type { DesiredState } from '../plan/types.js'
import { interpreterCacheFile, probeInterpreterCached } from '../python/interpreter-cache.js'
import { markRelease, type ReleaseMeta } from '../releases.js'
import type { RunReport } from '../report.js'
import { runChecks, verifyPlan, type UrlCheckResult } from '../verify/checks.js'
import { withBindingUrl } from '../verify/binding-url.js'
import { verifyTargets, type StaticTarget } from '../verify/targets.js'
import { withoutCredentials } from '../verify/url-credentials.js'
import { chooseRelease, servedRelease } from './choose.js'
import { configForRelease } from './deployed-settings.js'

/** What a rollback run needs from the action's run (src/flow/context.ts passes its RunDeps). */
export interface RunDeps {
  runner: ProcessRunner
  log: Log
  env: NodeJS.ProcessEnv
}
import { migrationWarning } from './migrations.js'

/** The release's own facts; a release recorded before the interpreter was gets this run's (python input). */
async function factsOf(deps: RunDeps, config: DeployConfig, layout: Layout, release: ReleaseMeta): Promise<StageFacts> {
  let python: { pythonVersion: string; pythonHome: string } | undefined = release.deployedWith
  if (!python) {
    const { interpreter } = await probeInterpreterCached(deps.runner, config.python, interpreterCacheFile(layout.root))
    python = { pythonVersion: interpreter.majorMinor, pythonHome: interpreter.basePrefix }
  }
  return {
    releaseId: release.id,
    venvHash: release.venvHash,
    pythonVersion: python.pythonVersion,
    pythonHome: python.pythonHome,
    wsgiApplication: release.wsgiApplication ?? '',
    // Releases staged before STATIC_URL was recorded served '<app>/static'.
    staticSettings: release.staticSettings ?? { staticUrl: 'static/', forceScriptName: null }
  }
}

/** The config and desired IIS state that serve `release` as its deploy left it. */
async function restoreTarget(
  deps: RunDeps,
  config: DeployConfig,
  layout: Layout,
  release: ReleaseMeta
): Promise<{ config: DeployConfig; desired: DesiredState }> {
  const restored = configForRelease(config, release.id, release.deployedWith, deps.log)
  const facts = await factsOf(deps, restored, layout, release)
  if (!fs.existsSync(layout.venvDir(facts.venvHash))) {
    throw new InputError('release-id', `release ${release.id}'s venv ${layout.venvDir(facts.venvHash)} is gone; name another release`)
  }
  return { config: restored, desired: desiredState(restored, facts) }
}

function staticTargetOf(release: ReleaseMeta, desired: DesiredState): StaticTarget {
  return {
    files: release.staticFiles ?? [],
    ...(release.staticCheckUrl ? { checkUrl: release.staticCheckUrl } : {}),
    elsewhere: desired.staticLocation.kind === 'elsewhere'
  }
}

function verify(deps: RunDeps, config: DeployConfig, target: StaticTarget, siteId: number, title: string): Promise<UrlCheckResult[]> {
  return deps.log.group(title, () => runChecks(verifyPlan(config.verify, verifyTargets(config, target, siteId)), deps.log))
}

/**
 * After the rolled-back release failed verify: applies the live release's desired state again (its record, or
 * this run's inputs), or restores this run's backup when IIS served no release of ours. Never throws.
 */
async function rollForward(
  deps: RunDeps,
  applyDeps: ApplyDeps,
  config: DeployConfig,
  layout: Layout,
  live: ReleaseMeta | undefined,
  applied: ApplyResult
): Promise<{ ok: boolean; detail: string; restored?: { config: DeployConfig; desired: DesiredState; release: ReleaseMeta } }> {
  if (live) {
    try {
      const back = await restoreTarget(deps, config, layout, live)
      const appcmd = new Appcmd({ runner: deps.runner, log: deps.log, path: config.appcmd })
      const current = await readStateAt(appcmd, back.desired, layout.root)
      await applyPlan(applyDeps, await deployPlanFor(back.config, back.desired, current))
      return { ok: true, detail: `release ${live.id} serves again (its plan applied again)`, restored: { ...back, release: live } }
    } catch (error) {
      deps.log.warning(`applying release ${live.id} again failed (${asError(error).message}); restoring this run's backup`)
    }
  }
  const rb = await applied.rollback()
  return { ok: rb.ok, detail: rb.ok ? rb.restored.join('; ') || 'nothing needed restoring' : `NOT restored: ${rb.failed.join('; ')}` }
}

async function rollBack(deps: RunDeps, config: DeployConfig, report: RunReport, phases: Phases, current: CurrentState): Promise<void> {
  const { log } = deps
  const layout = layoutFor(config.deployRoot)
  const target = { site: config.siteName, appPath: config.appPath }
  const verifyConfig = withBindingUrl(config, current, log)
  report.url = withoutCredentials(verifyConfig.verify.url)
  const live = servedRelease(layout, current.app.physicalPath)
  const chosen = chooseRelease(layout, target, config.rollbackTo, live)
  report.releaseId = chosen.id
  log.info(`Rolling back ${target.site}${target.appPath} from ${live ? `release ${live.id}` : 'what IIS serves'} to release ${chosen.id}`)
  const warning = migrationWarning(layout, target, chosen)
  if (warning) {
    log.warning(warning)
    report.warnings.push(warning)
  }
  const { config: restored, desired } = await restoreTarget(deps, verifyConfig, layout, chosen)
  const plan = await deployPlanFor(restored, desired, current)
  report.planPath = writePlan(restored, log, planDocument(restored, chosen.id, plan, []))
  const applyDeps: ApplyDeps = { runner: deps.runner, log, appcmdPath: config.appcmd, icaclsPath: config.icacls }
  const applied = await phases.run('Apply', () => applyPlan(applyDeps, plan))
  report.objects = applied.objects
  report.operations = applied.operations.filter(op => op.mutates)
  report.changed = applied.changed
  const checks = await phases.run('Verify', () => verify(deps, restored, staticTargetOf(chosen, desired), current.site.id, 'Verify'), false)
  report.checks = checks
  if (checks.every(c => c.ok)) {
    markRelease(layout, chosen.id, 'live')
    log.info(`Release ${chosen.id} is live again at ${report.url}`)
    return
  }
  const failedChecks = checks
    .filter(c => !c.ok)
    .map(c => `${c.name}: ${c.detail}`)
    .join('; ')
  const forward = await phases.run('Roll forward', () => rollForward(deps, applyDeps, verifyConfig, layout, live, applied))
  const again = forward.restored
    ? await phases.run(
        'Verify restored release',
        () =>
          verify(
            deps,
            forward.restored!.config,
            staticTargetOf(forward.restored!.release, forward.restored!.desired),
            current.site.id,
            'Verify restored release'
          ),
        false
      )
    : []
  report.rolledBack = forward.ok
  report.rollback = { ok: forward.ok, detail: forward.detail, checks: again }
  markRelease(layout, chosen.id, 'failed')
  const state = again.length === 0 ? '' : again.every(c => c.ok) ? ' It passes verify.' : ' It fails verify too.'
  throw new PhaseError('verify', `release ${chosen.id} failed verify (${failedChecks}); rolled forward: ${forward.detail}.${state}`)
}

/** Runs the rollback under the target's and the server's locks, and records it in the history while they are held. */
export async function rollbackMode(deps: RunDeps, config: DeployConfig, report: RunReport, phases: Phases): Promise<void> {
  await requireProgram('appcmd', config.appcmd)
  await requireProgram('icacls', config.icacls)
  const layout = layoutFor(config.deployRoot)
  const target = { site: config.siteName, appPath: config.appPath }
  // Refusals first, against the release marked live, before a lock or anything else is written.
  chooseRelease(layout, target, config.rollbackTo, servedRelease(layout, undefined))
  claimDeployRoot(layout.root, target)
  let lock: TargetLock | undefined
  let serverLock: TargetLock | undefined
  let refused = false
  try {
    const locked = {
      site: config.siteName,
      appPath: config.appPath,
      runId: config.releaseId,
      timeoutMs: config.lockTimeoutMs,
      log: deps.log
    }
    lock = await acquireLock({ ...locked, dir: layout.root })
    // A rollback writes applicationHost.config like a deploy does (src/main.ts says why the server lock).
    serverLock = await acquireLock({ ...locked, dir: config.lockDir, site: 'IIS', appPath: '/applicationHost.config' })
    const appcmd = new Appcmd({ runner: deps.runner, log: deps.log, path: config.appcmd })
    const current = await phases.run('Read IIS', () => readStateAt(appcmd, stateQuery(config), layout.root))
    await rollBack(deps, config, report, phases, current)
  } catch (error) {
    // The history entry below needs the outcome main's catch would give it; a refusal changed nothing and gets none.
    report.error = deps.log.redact(asError(error).message)
    refused = error instanceof InputError
    throw error
  } finally {
    if (lock && !refused) recordRun(report, deps.env, deps.log)
    serverLock?.release()
    lock?.release()
  }
}
