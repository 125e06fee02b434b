/** Steps that stage and deploy share: claim deploy-root, lock, read IIS, stage the release. */
import fs from 'node:fs'
import { claimDeployRoot } from '../deploy-root-claim.js'
import { Appcmd } from '../iis/appcmd.js'
import { settleFastCgi } from '../iis/fastcgi-record.js'
import { acquireLock } from '../iis/lock.js'
import { refuseSharedPool } from '../iis/pool-sharing.js'
import { readStateAt } from '../iis/state.js'
import { recoverBeforeDeploy } from '../journal/run-hook.js'
import { requireAppInit } from '../iis/app-init.js'
import { stateQuery } from '../plan/desired.js'
import { deployPlanFor, planDocument, writeOutputFiles, writePlan } from '../plan/plan-output.js'
import { stageRelease, type StageResult } from '../stage.js'
import { withBindingUrl } from '../verify/binding-url.js'
import { warn, type RunContext } from './context.js'
import { planMigrations } from './database-steps.js'
import { interpreterOf } from './prepare.js'
import type { Step } from './steps.js'

export const claimRoot: Step = {
  name: 'Claim deploy-root',
  run: ({ config, layout, probe }) => {
    // One deploy-root, one app: another app's run is refused here, before it writes anything there.
    claimDeployRoot(layout.root, { site: config.siteName, appPath: config.appPath })
    probe?.remember()
  }
}

export const lockTarget: Step = {
  name: 'Lock the target',
  run: async ctx => {
    const { config, log } = ctx
    // One run per target from staging to verify: two runs must not build the same venv or switch in between.
    const lock = await acquireLock({
      dir: ctx.layout.root,
      site: config.siteName,
      appPath: config.appPath,
      runId: config.releaseId,
      timeoutMs: config.lockTimeoutMs,
      log
    })
    ctx.locks.push(lock)
    ctx.targetLocked = true
  }
}

export const lockServer: Step = {
  name: 'Lock applicationHost.config',
  run: async ctx => {
    const { config } = ctx
    // applicationHost.config is one file for the whole server, and a rollback restores all of it: deploys of
    // other apps on this server must not land between this run's backup and its verify.
    const lock = await acquireLock({
      dir: config.lockDir,
      site: 'IIS',
      appPath: '/applicationHost.config',
      runId: config.releaseId,
      timeoutMs: config.lockTimeoutMs,
      log: ctx.log
    })
    ctx.locks.push(lock)
  }
}

/** A deploy that stopped unfinished (its journal is still open) is undone before this run reads anything. */
export const recoverUnfinished: Step = {
  name: 'Recover an unfinished run',
  run: async ctx => {
    const outcome = await recoverBeforeDeploy(ctx, ctx.config)
    if (outcome.recovery) ctx.recovery = outcome.recovery
    for (const message of outcome.warnings) warn(ctx, message)
  }
}

/**
 * Deploy reads IIS first (under the lock): a missing site stops the run before anything is built, and the
 * preflight sends the Host that the site's binding will.
 */
export const readIis: Step = {
  name: 'Read IIS',
  run: async ctx => {
    const { config, log } = ctx
    const appcmd = new Appcmd({ runner: ctx.runner, log, path: config.appcmd })
    const current = await ctx.phases.run('Read IIS', () => readStateAt(appcmd, stateQuery(config), ctx.layout.root, { deferFastCgi: true }))
    ctx.current = current
    // Before anything is staged: warm-up needs IIS's Application Initialization feature.
    if (config.warmUp) await requireAppInit(appcmd)
    await refuseSharedPool(appcmd, config, current)
    ctx.config = withBindingUrl(config, current, log)
  }
}

export const stage: Step = {
  name: 'Stage',
  phase: 'plain',
  run: async ctx => {
    const { config, log, templates } = ctx
    const staged = await stageRelease({ runner: ctx.runner, log, templates }, config, interpreterOf(ctx))
    ctx.stage = staged
    if (ctx.current) {
      // A reused release reads the fastCgi section (the drift check) while its migrations are listed, a Python
      // start of its own: neither needs the other, and side by side a no-op waits for the longer one only.
      const settled = settleFastCgi(
        new Appcmd({ runner: ctx.runner, log, path: config.appcmd }),
        log,
        ctx.current,
        staged.desired,
        staged.releaseReused
      )
      // Awaited by Plan; a run that fails before then reports its own error, not this one twice.
      settled.catch(() => undefined)
      ctx.settled = settled
    }
    fs.mkdirSync(config.outputDir, { recursive: true })
    ctx.files = writeOutputFiles(config.outputDir, staged.configs)
    for (const w of staged.checkWarnings) ctx.warnings.push(`${w.id}: ${w.message}`)
  }
}

/** The release the Stage step built or reused. */
export function stagedOf(ctx: RunContext): StageResult {
  if (!ctx.stage) throw new Error('the flow used the release before staging it')
  return ctx.stage
}

export const planStaged: Step = {
  name: 'Write the plan of the staged release',
  run: ctx => {
    const { config, log } = ctx
    const staged = stagedOf(ctx)
    const plan = deployPlanFor(config, staged.desired, undefined)
    ctx.planPath = writePlan(config, log, { ...planDocument(config, staged.facts.releaseId, plan, ctx.files), ...planMigrations(ctx) })
    log.info(`Release ${staged.facts.releaseId} staged in ${staged.releaseDir}; nothing was changed in IIS (mode: stage).`)
  }
}
