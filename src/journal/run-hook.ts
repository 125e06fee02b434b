/**
 * The deploy flow's recovery step: before anything else under both locks, a run that stopped unfinished is undone
 * (src/journal/recover.ts), and what that did goes into the log, the summary and the outputs.
 */
import { PhaseError } from '../errors.js'
import { recoverUnfinishedRun } from './recover.js'
import type { RunReport } from '../report.js'
import type { DeployConfig } from '../config.js'
import type { Log } from '../log.js'
import type { ProcessRunner } from '../process.js'

export interface RecoveryOutcome {
  recovery?: RunReport['recovery']
  warnings: string[]
}

export async function recoverBeforeDeploy(deps: { runner: ProcessRunner; log: Log }, config: DeployConfig): Promise<RecoveryOutcome> {
  const recovery = await recoverUnfinishedRun({
    runner: deps.runner,
    log: deps.log,
    appcmdPath: config.appcmd,
    icaclsPath: config.icacls,
    deployRoot: config.deployRoot,
    target: { site: config.siteName, appPath: config.appPath }
  })
  if (!recovery) return { warnings: [] }
  const warnings = recovery.foreign.map(change => `Changed by someone else since an interrupted run's backup, left as it is: ${change}`)
  if (!recovery.ok) {
    // Deploying over a half-undone run would take a backup of it and make it the next rollback's target.
    throw new PhaseError(
      'apply',
      recovery.notice,
      'fix what is named, then re-run: the journal stays until the interrupted run is recovered'
    )
  }
  return { recovery, warnings }
}
