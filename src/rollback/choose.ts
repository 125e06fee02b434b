/**
 * Which release a rollback goes to: the newest verified release of the app built before the live one, or the one
 * release-id names. Every refusal is an InputError naming the input and the fix, raised before IIS is touched.
 */
import { sameTarget, targetName, type DeployTarget } from '../deploy-root-claim.js'
import { InputError } from '../errors.js'
import type { Layout } from '../layout.js'
import { listReleases, passedVerify, readRelease, readReleaseAt, type ReleaseMeta } from '../releases.js'
import { samePath } from '../windows-path.js'

/** The release of this deploy-root IIS serves at `physicalPath`; the one marked live when IIS names none of ours. */
export function servedRelease(layout: Layout, physicalPath: string | undefined): ReleaseMeta | undefined {
  const served = physicalPath ? readReleaseAt(physicalPath) : undefined
  if (served && samePath(layout.releaseDir(served.id), physicalPath)) return served
  return listReleases(layout).find(r => r.state === 'live')
}

/** A release of earlier versions names no target: it counts as the deploying app's, as in src/releases.ts. */
const ofTarget = (r: ReleaseMeta, target: DeployTarget): boolean => !r.target || sameTarget(r.target, target)

/** Verified releases of the app other than the live one, newest build first: what release-id may name. */
function verifiedOthers(layout: Layout, target: DeployTarget, liveId: string | undefined): ReleaseMeta[] {
  return listReleases(layout).filter(r => r.id !== liveId && passedVerify(r) && ofTarget(r, target))
}

function namesOf(releases: ReleaseMeta[]): string {
  return releases.length > 0 ? releases.map(r => r.id).join(', ') : 'none'
}

export function chooseRelease(
  layout: Layout,
  target: DeployTarget,
  requested: string | undefined,
  live: ReleaseMeta | undefined
): ReleaseMeta {
  const candidates = verifiedOthers(layout, target, live?.id)
  if (requested === undefined) {
    // Built before the live one: after a rollback to r1, the next one goes to r0, not forward to r2.
    const earlier = live ? candidates.filter(r => r.createdAt.localeCompare(live.createdAt) < 0) : candidates
    if (earlier[0]) return earlier[0]
    throw new InputError(
      'mode',
      `no release of ${targetName(target)} before ${live ? `the live one (${live.id})` : 'this run'} passed verify under ${layout.releasesDir}, so there is nothing to roll back to; deploy with mode: deploy, or set release-id to one of: ${namesOf(candidates)}`
    )
  }
  const meta = readRelease(layout, requested)
  if (!meta || meta.id !== requested) {
    throw new InputError(
      'release-id',
      `there is no release '${requested}' under ${layout.releasesDir}; set it to a verified release of this app: ${namesOf(candidates)}`
    )
  }
  if (!ofTarget(meta, target)) {
    throw new InputError(
      'release-id',
      `release ${requested} belongs to ${targetName(meta.target as DeployTarget)}, not ${targetName(target)}; set it to one of: ${namesOf(candidates)}`
    )
  }
  if (requested === live?.id) {
    throw new InputError('release-id', `release ${requested} is the live one already; set it to an earlier one: ${namesOf(candidates)}`)
  }
  if (!passedVerify(meta)) {
    const why = meta.state === 'failed' ? 'failed verify' : 'never passed verify'
    throw new InputError(
      'release-id',
      `release ${requested} ${why}, so it is no state to go back to; set it to one of: ${namesOf(candidates)}`
    )
  }
  return meta
}
