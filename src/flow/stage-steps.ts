/** Steps that stage and deploy share: claim deploy-root, lock, stage the release (Read IIS: src/flow/iis-read.ts). */
import fs from 'node:fs'
import { claimDeployRoot } from '../deploy-root-claim.js'
import { discardDir } from '../discard.js'
import { Appcmd } from '../iis/appcmd.js'
import { settleFastCgi, startRecordHash } from '../iis/fastcgi-record.js'
import { readFastCgiSection } from '../iis/state.js'
import { backupRecordFile } from '../iis/backup.js'
import { dropRestorePoint, takeRestorePoint, type RestorePoint } from '../iis/restore-point.js'
import { acquireLock } from '../iis/lock.js'
import { locationPath } from '../iis/app-location.js'
import { LocationRecord, type FastCgiRecord } from '../iis/location-record.js'
import { recoverBeforeDeploy } from '../journal/run-hook.js'
import { appEnvironment, stateQuery } from '../plan/desired.js'
import { deployPlanFor, planDocument, writeOutputFiles, writePlan } from '../plan/plan-output.js'
import { stageRelease, type StageResult } from '../stage.js'
import { removeReleaseDir } from '../shared/links.js'
import { warn, type RunContext } from './context.js'
import { listReusedRelease, planMigrations, reusesLiveRelease } from './database-steps.js'
import { iisReadDone } from './iis-read.js'
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

export const stage: Step = {
  name: 'Stage',
  phase: 'plain',
  run: async ctx => {
    const { config, log, templates } = ctx
    const appcmd = new Appcmd({ runner: ctx.runner, log, path: config.appcmd })
    const reading = ctx.iisRead !== undefined
    // mode: stage reads no IIS and plans against none: nothing below that reads IIS applies to it.
    const deploying = reading || ctx.current !== undefined
    const recorded = deploying && config.hosting === 'fastcgi' ? recordedFastCgi(ctx) : undefined
    let staged: StageResult
    try {
      staged = await stageRelease(
        {
          runner: ctx.runner,
          log,
          templates,
          ...(reading ? { beforeBuild: () => iisReadDone(ctx) } : {}),
          // The registration's variables are the inputs' alone (appEnvironment): the salted hash that Plan compares
          // with the record is made on the thread pool while Python checks the new release. A reused release
          // needs none (settleFastCgi reads its section), so a no-op leaves that CPU to the walk of the project.
          onNewRelease: () => {
            startRecordHash(recorded, appEnvironment(config))
            // A new release is a switch: the plan's backup is taken now, beside Python's check of the release.
            if (deploying) ctx.restorePoint = restorePointFor(ctx)
          }
        },
        config,
        interpreterOf(ctx)
      )
    } catch (error) {
      // Read IIS came first: its failure is the run's error.
      await iisReadDone(ctx)
      throw error
    }
    ctx.stage = staged
    // Started before the IIS read is taken (it may still run): a reused release lists its migrations, a Python start
    // of its own, unless it is a no-op candidate (reusesLiveRelease), and reads the fastCgi section the read left
    // to settle. Both are awaited later; a run that fails before then reports its own error, not these.
    if (!staged.pendingMigrations && !reusesLiveRelease(ctx, staged)) {
      ctx.listing = listReusedRelease(ctx)
      ctx.listing.catch(() => undefined)
    }
    const section = staged.releaseReused && recorded ? readFastCgiSection(appcmd) : undefined
    section?.catch(() => undefined)
    if (reading) {
      try {
        await iisReadDone(ctx)
      } catch (error) {
        await ctx.listing?.catch(() => undefined)
        // Built beside a read that refused the target: never served, so it goes. The read's error stays the run's.
        if (!staged.releaseReused) removeUnserved(ctx, staged.releaseDir)
        delete ctx.stage
        throw error
      }
    }
    if (ctx.current) {
      const settled = settleFastCgi(appcmd, log, ctx.current, staged.desired, staged.releaseReused, section)
      // Awaited by Plan; a run that fails before then reports its own error, not this one twice.
      settled.catch(() => undefined)
      ctx.settled = settled
    }
    fs.mkdirSync(config.outputDir, { recursive: true })
    ctx.files = writeOutputFiles(config.outputDir, staged.configs)
    for (const w of staged.checkWarnings) ctx.warnings.push(`${w.id}: ${w.message}`)
  }
}

/** Taken once the IIS read succeeded (a target the read refuses gets none), under the server lock main holds. */
function restorePointFor(ctx: RunContext): RestorePoint {
  const { config } = ctx
  return takeRestorePoint({
    runner: ctx.runner,
    log: ctx.log,
    appcmdPath: config.appcmd,
    releaseId: config.releaseId,
    recordFile: backupRecordFile(config.lockDir),
    after: ctx.iisRead?.read ?? Promise.resolve()
  })
}

/** The run ends: a backup taken for a switch that apply never reached is deleted (src/iis/restore-point.ts). */
export async function dropUnusedRestorePoint(ctx: RunContext | undefined): Promise<void> {
  const point = ctx?.restorePoint
  if (!ctx || !point) return
  const { config } = ctx
  const deps = { runner: ctx.runner, log: ctx.log, appcmdPath: config.appcmd, recordFile: backupRecordFile(config.lockDir) }
  const failed = await dropRestorePoint(point, deps)
  if (failed) warn(ctx, failed)
}

function removeUnserved(ctx: RunContext, releaseDir: string): void {
  // Renamed first (src/discard.ts): a delete stopped half-way must not leave a manifest a later run would reuse.
  const { left } = discardDir(releaseDir, dir => removeReleaseDir(dir, ctx.config.shared))
  if (left) warn(ctx, `a release that was never served: ${left}`)
}

/** The FastCGI registration deploy-root's record names for the target, if any (src/iis/fastcgi-record.ts). */
function recordedFastCgi(ctx: RunContext): FastCgiRecord | undefined {
  return LocationRecord.read(ctx.layout.root).known(locationPath(stateQuery(ctx.config).app)).fastCgi
}

/** The release the Stage step built or reused. */
export function stagedOf(ctx: RunContext): StageResult {
  if (!ctx.stage) throw new Error('the flow used the release before staging it')
  return ctx.stage
}

export const planStaged: Step = {
  name: 'Write the plan of the staged release',
  run: async ctx => {
    const { config, log } = ctx
    const staged = stagedOf(ctx)
    const plan = await deployPlanFor(config, staged.desired, undefined)
    ctx.planPath = writePlan(config, log, { ...planDocument(config, staged.facts.releaseId, plan, ctx.files), ...planMigrations(ctx) })
    log.info(`Release ${staged.facts.releaseId} staged in ${staged.releaseDir}; nothing was changed in IIS (mode: stage).`)
  }
}
