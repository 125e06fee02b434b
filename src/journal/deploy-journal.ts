/** The deploy's side of the run journal: what the deploy flow's steps (src/flow/deploy-steps.ts) call around apply and verify. */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { PhaseError } from '../errors.js'
import { LocationRecord } from '../iis/location-record.js'
import type { Layout } from '../layout.js'
import type { DeployPlan } from '../plan/build.js'
import { lastVerifiedRelease, passedVerify, readRelease } from '../releases.js'
import type { SpWrite } from '../shibboleth/apply.js'
import { SP_RECORD_FILE } from '../shibboleth/entry-record.js'
import { JournalRecorder } from './recorder.js'

/** Begins the journal before apply; undefined when the plan writes nothing to IIS, unless `always` (an SP change). */
export function startJournal(layout: Layout, plan: DeployPlan, releaseId: string, always = false): JournalRecorder | undefined {
  const target = { site: plan.desired.app.site, appPath: plan.desired.app.path }
  const meta = readRelease(layout, releaseId)
  const lastVerified = lastVerifiedRelease(layout, target, [releaseId])
  return JournalRecorder.begin(
    {
      plan,
      releaseId,
      releaseVerifiedBefore: meta !== undefined && passedVerify(meta),
      ...(lastVerified ? { lastVerifiedRelease: lastVerified.id } : {}),
      locationRecord: LocationRecord.read(layout.root).original
    },
    new Date(),
    always
  )
}

/**
 * After a failed apply: closed when apply's own rollback restored everything; otherwise left for the next run,
 * which recovers from it. apply reports what it could not restore as "NOT restored" (src/iis/rollback.ts).
 */
export function afterFailedApply(journal: JournalRecorder | undefined, error: unknown): void {
  if (error instanceof PhaseError && error.rolledBack && !error.message.includes('NOT restored')) journal?.close()
}

const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex')

function textOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

/**
 * The SP step's beforeWrite (src/shibboleth/apply.ts): records the SP config change in the run's journal before
 * the file is written, opening the journal first when apply has not (the SP step runs before it).
 */
export function recordSpWrite(journal: () => JournalRecorder | undefined, deployRoot: string): (write: SpWrite) => void {
  return write => {
    journal()?.spChange({
      configPath: write.configPath,
      ...(write.backupPath ? { backupPath: write.backupPath } : {}),
      ...(write.original ? { originalSha256: sha256(write.original) } : {}),
      writtenSha256: sha256(write.next),
      entryRecord: textOrNull(path.join(deployRoot, SP_RECORD_FILE)),
      service: write.service,
      net: write.net,
      recycle: write.recycle
    })
  }
}
