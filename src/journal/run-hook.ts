/** main's hook for recovery: runs it for a deploy and puts what it did into the log, the summary and the outputs. */
import type { DeployConfig } from '../config.js'
import { PhaseError } from '../errors.js'
import type { Log } from '../log.js'
import type { ProcessRunner } from '../process.js'
import type { RunReport } from '../report.js'
import { recoverUnfinishedRun } from './recover.js'

export async function recoverInRun(deps: { runner: ProcessRunner; log: Log }, config: DeployConfig, report: RunReport): Promise<void> {
  const recovery = await recoverUnfinishedRun({
    runner: deps.runner,
    log: deps.log,
    appcmdPath: config.appcmd,
    icaclsPath: config.icacls,
    deployRoot: config.deployRoot,
    target: { site: config.siteName, appPath: config.appPath }
  })
  if (!recovery) return
  report.recovery = recovery
  for (const change of recovery.foreign)
    report.warnings.push(`Changed by someone else since an interrupted run's backup, left as it is: ${change}`)
  if (!recovery.ok) {
    // Deploying over a half-undone run would take a backup of it and make it the next rollback's target.
    throw new PhaseError(
      'apply',
      recovery.notice,
      'fix what is named, then re-run: the journal stays until the interrupted run is recovered'
    )
  }
}
