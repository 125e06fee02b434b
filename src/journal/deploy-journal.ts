/** The deploy's side of the run journal: what the deploy flow's steps (src/flow/deploy-steps.ts) call around apply and verify. */
import { PhaseError } from '../errors.js'
import { LocationRecord } from '../iis/location-record.js'
import type { Layout } from '../layout.js'
import type { DeployPlan } from '../plan/build.js'
import { lastVerifiedRelease, passedVerify, readRelease } from '../releases.js'
import { JournalRecorder } from './recorder.js'

/** Begins the journal before apply; undefined when the plan writes nothing to IIS. */
export function startJournal(layout: Layout, plan: DeployPlan, releaseId: string): JournalRecorder | undefined {
  const target = { site: plan.desired.app.site, appPath: plan.desired.app.path }
  const meta = readRelease(layout, releaseId)
  const lastVerified = lastVerifiedRelease(layout, target, [releaseId])
  return JournalRecorder.begin({
    plan,
    releaseId,
    releaseVerifiedBefore: meta !== undefined && passedVerify(meta),
    ...(lastVerified ? { lastVerifiedRelease: lastVerified.id } : {}),
    locationRecord: LocationRecord.read(layout.root).original
  })
}

/**
 * After a failed apply: closed when apply's own rollback restored everything; otherwise left for the next run,
 * which recovers from it. apply reports what it could not restore as "NOT restored" (src/iis/rollback.ts).
 */
export function afterFailedApply(journal: JournalRecorder | undefined, error: unknown): void {
  if (error instanceof PhaseError && error.rolledBack && !error.message.includes('NOT restored')) journal?.close()
}
