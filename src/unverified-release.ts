/**
 * A release IIS serves that never passed verify: a run killed between its switch and its verify leaves one. It is
 * not trusted: when verify fails, the rollback goes past it to the app's last verified release (docs/iis-apply.md).
 */
import type { DeployConfig } from './config.js'
import type { DeployTarget } from './deploy-root-claim.js'
import { sameTarget } from './deploy-root-claim.js'
import { asError } from './errors.js'
import { applyPlan, type ApplyDeps, type ApplyResult, type RollbackResult } from './iis/apply.js'
import { locationPath } from './iis/app-location.js'
import { Appcmd } from './iis/appcmd.js'
import { readStateAt } from './iis/state.js'
import { deployPlanFor } from './plan/plan-output.js'
import type { Layout } from './layout.js'
import { samePath } from './windows-path.js'
import { desiredState, type StageFacts } from './plan/desired.js'
import { lastVerifiedRelease, passedVerify, readReleaseAt, type ReleaseMeta } from './releases.js'

/** The release of this app IIS serves at `physicalPath` when it never passed verify; undefined otherwise. */
export function unverifiedServed(layout: Layout, physicalPath: string | undefined, target: DeployTarget): ReleaseMeta | undefined {
  if (!physicalPath) return undefined
  const meta = readReleaseAt(physicalPath)
  if (!meta || (meta.target && !sameTarget(meta.target, target))) return undefined
  // Only a folder of this deploy-root that its manifest names: anything else is not a release of ours.
  if (!samePath(layout.releaseDir(meta.id), physicalPath)) return undefined
  return passedVerify(meta) ? undefined : meta
}

/** What the log and the summary say about it before apply. */
export function unverifiedNotice(unverified: ReleaseMeta, deploying: string): string {
  const why = `release ${unverified.id} was live but never verified (a run was interrupted)`
  return unverified.id === deploying
    ? `${why}; verifying it again: it is marked live only if it passes, and rolled back to the last verified release if it fails`
    : `${why}; if this release fails verify, the rollback goes to the last verified release, not to ${unverified.id}`
}

export interface PastUnverified extends RollbackResult {
  /** The release IIS serves again, when the rollback went back to one. */
  restoredRelease?: ReleaseMeta
}

/**
 * After a failed verify with an unverified release served before the run: points the app back at the last verified
 * release (root vdir, the static vdir its STATIC_URL needs, its FastCGI registration, a recycle) by applying that
 * release's desired state. Variables from inputs take this run's values: release.json records no secret values,
 * since it lies under the web root. Without a verified release, this run's changes are undone and the run says so.
 */
export async function rollBackPastUnverified(
  deps: ApplyDeps,
  config: DeployConfig,
  layout: Layout,
  facts: StageFacts,
  unverified: ReleaseMeta,
  applied: ApplyResult
): Promise<PastUnverified> {
  const target = { site: config.siteName, appPath: config.appPath }
  const why = `release ${unverified.id} was live but never verified (a run was interrupted)`
  const good = lastVerifiedRelease(layout, target, [unverified.id, facts.releaseId])
  if (!good) {
    const rb = await applied.rollback()
    const left = applied.changed ? `${unverified.id} serves again` : `${unverified.id} stays live`
    return { ...rb, ok: false, failed: [...rb.failed, `${why}, and no release of this app ever passed verify: ${left}`] }
  }
  const desired = desiredState(config, {
    ...facts,
    releaseId: good.id,
    venvHash: good.venvHash,
    wsgiApplication: good.wsgiApplication ?? facts.wsgiApplication,
    // Releases staged before STATIC_URL was recorded served '<app>/static'.
    staticSettings: good.staticSettings ?? { staticUrl: 'static/', forceScriptName: null }
  })
  try {
    // Straight from what IIS holds now to the verified release: the unverified one is never served again.
    const appcmd = new Appcmd({ runner: deps.runner, log: deps.log, path: deps.appcmdPath })
    const current = await readStateAt(appcmd, desired, layout.root)
    const back = await applyPlan(deps, await deployPlanFor(config, desired, current))
    // What serves the app again; the restore point and the pruning of old backups (by appcmd or by folder) are not.
    const writes = back.operations.filter(op => op.tool === 'appcmd' && op.mutates && op.argv[1] !== 'backup').length
    return {
      ok: true,
      restored: [`${why}; release ${good.id}, the last verified one, serves ${locationPath(desired.app)} again (${writes} IIS operations)`],
      failed: [],
      restoredRelease: good
    }
  } catch (error) {
    const failed = `${why}; going back to release ${good.id}, the last verified one (${asError(error).message})`
    if (!applied.changed) return { ok: false, restored: [], failed: [failed] }
    // At least the state before this run: what the failed release changed goes, by its own rollback.
    const rb = await applied.rollback()
    return { ...rb, ok: false, failed: [failed, ...rb.failed] }
  }
}
