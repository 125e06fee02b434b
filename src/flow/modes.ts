/**
 * The flow of each mode, as the list of steps it runs (docs/architecture.md). A step that fails stops the list;
 * a failed verify rolls the deploy back (src/flow/rollback.ts) and fails the run.
 */
import type { Mode } from '../config.js'
import { doctorMode } from '../doctor/doctor.js'
import { emptyReport } from '../report.js'
import { rollbackMode } from '../rollback/mode.js'
import { withoutCredentials } from '../verify/url-credentials.js'
import type { RunContext } from './context.js'
import { applyIis, applySp, changedBy, markLive, noteUnverified, planDeploy, recycleSp, verify, warmUp } from './deploy-steps.js'
import { applyRestoredIis, listMigrations, migrateAndRunCommands, restoringDatabase } from './database-steps.js'
import { planFromSource } from './plan-mode.js'
import { checkTemplates, findIisTools, probePython, trialRender } from './prepare.js'
import { rollBackFailedVerify } from './rollback.js'
import { readIis } from './iis-read.js'
import { claimRoot, lockServer, lockTarget, planStaged, recoverUnfinished, stage, stagedOf } from './stage-steps.js'
import type { Step } from './steps.js'

const doctor: Step = {
  name: 'Doctor',
  run: ctx => doctorMode(ctx.deps, ctx.config, ctx)
}

/** mode: rollback runs as one step with its own locks and history entry (src/rollback/mode.ts). */
const rollBackOnDemand: Step = {
  name: 'Roll back on demand',
  run: async ctx => {
    const { config } = ctx
    // The history entry and the summary need the target before the rollback writes them.
    ctx.onDemand = {
      ...emptyReport(),
      mode: config.mode,
      target: { site: config.siteName, appPath: config.appPath, pool: config.appPool, deployRoot: config.deployRoot },
      url: withoutCredentials(config.verify.url),
      insecureTls: config.verify.insecure
    }
    await rollbackMode(ctx.deps, ctx.config, ctx.onDemand, ctx.phases)
  }
}

const sayWhatIsLive: Step = {
  name: 'Say what is live',
  run: ctx => {
    const releaseId = stagedOf(ctx).facts.releaseId
    const url = withoutCredentials(ctx.config.verify.url)
    ctx.log.info(
      changedBy(ctx)
        ? `Release ${releaseId} is live at ${url}`
        : ctx.reverified
          ? `Release ${releaseId} was live without a verify; it passed verify now at ${url}`
          : `Nothing changed: release ${releaseId} was already live and verified at ${url}`
    )
  }
}

/** Deploy's steps once the plan is written: what runs against the server. */
export function applyAndVerify(): readonly Step[] {
  return [
    restoringDatabase(applySp, () => true),
    noteUnverified,
    restoringDatabase(applyIis, applyRestoredIis),
    recycleSp,
    warmUp,
    verify,
    rollBackFailedVerify,
    markLive,
    sayWhatIsLive
  ]
}

export const FLOWS: Record<Mode, readonly Step[]> = {
  doctor: [doctor],
  rollback: [rollBackOnDemand],
  plan: [checkTemplates, probePython, planFromSource],
  stage: [checkTemplates, probePython, trialRender, claimRoot, lockTarget, stage, listMigrations, planStaged],
  deploy: [
    checkTemplates,
    findIisTools,
    probePython,
    trialRender,
    claimRoot,
    lockTarget,
    lockServer,
    recoverUnfinished,
    readIis,
    stage,
    listMigrations,
    planDeploy,
    migrateAndRunCommands,
    ...applyAndVerify()
  ]
}

export function flowOf(ctx: RunContext): readonly Step[] {
  return FLOWS[ctx.config.mode]
}
