/**
 * The database around the switch: list the unapplied migrations for the plan, run migrate and the release commands
 * before the switch (under the target lock, the old release still serving), and put an SQLite database back when
 * the run rolls back. Other databases are never reversed by the action: the report lists the commands that would.
 */
import { asError, PhaseError } from '../errors.js'
import { workerEnvironment } from '../plan/desired.js'
import type { PlanDocument } from '../plan/plan-file.js'
import { iisEnv, secretsOf, type DjangoOptions } from '../python/django-script.js'
import { pendingFrom, pendingLine, type PendingMigrations } from '../migrations/pending.js'
import { backupPathFor, DatabaseStepError, restoreSqlite, runDatabaseSteps } from '../migrations/run.js'
import { runMigrationsScript } from '../migrations/script.js'
import { readRelease, writeRelease } from '../releases.js'
import { warn, type RunContext } from './context.js'
import { stagedOf } from './stage-steps.js'
import type { StageResult } from '../stage.js'
import { samePath } from '../windows-path.js'
import type { Step } from './steps.js'

/** The new release's Django options: the environment the release checks and IIS give the app. */
function djangoOf(ctx: RunContext): DjangoOptions {
  const staged = stagedOf(ctx)
  return {
    venvPython: ctx.layout.venvPython(staged.facts.venvHash),
    projectDir: staged.releaseDir,
    settingsModule: ctx.config.settingsModule,
    env: workerEnvironment(ctx.config, staged.facts)
  }
}

/** Says what the listing found: a warning when the new code would go live without its migrations. */
export function reportPending(ctx: RunContext, found: PendingMigrations | undefined): void {
  if (!found) return
  ctx.pendingMigrations = found
  const line = pendingLine(found, ctx.config.migrate)
  if (!line) ctx.log.info('No unapplied migrations.')
  else if (found.reachable && !ctx.config.migrate) warn(ctx, line)
  else ctx.log.info(line)
}

/** A reused release's unapplied migrations: one Python start of its own (a new release's stage lists them). */
export async function listReusedRelease(ctx: RunContext): Promise<PendingMigrations | undefined> {
  const django = djangoOf(ctx)
  const run = await runMigrationsScript(ctx.runner, django.venvPython, django.projectDir, iisEnv(django), { pending: true })
  return pendingFrom(run.answers.find(a => a.part === 'pending'))
}

/**
 * Whether the run reuses the release deploy-root records live for the target, with no database step to run (migrate
 * off, no release commands): when IIS serves it too, no new code goes live, and the listing (a Python and Django
 * start on every no-op) says nothing the run that built the release did not (its warning is "the new code goes live
 * without them").
 */
export function reusesLiveRelease(ctx: RunContext, staged: StageResult): boolean {
  const { config } = ctx
  if (config.migrate || config.releaseCommands.length > 0 || !staged.releaseReused) return false
  return readRelease(ctx.layout, staged.facts.releaseId)?.state === 'live'
}

/** The unapplied migrations: from the stage's own Django process, or the reused release's listing. */
export const listMigrations: Step = {
  name: 'List unapplied migrations',
  run: async ctx => {
    const staged = stagedOf(ctx)
    if (staged.pendingMigrations) return reportPending(ctx, staged.pendingMigrations)
    const served = ctx.current && samePath(ctx.current.app.physicalPath, staged.releaseDir)
    if (!ctx.listing && served && reusesLiveRelease(ctx, staged)) {
      ctx.log.info(`Unapplied migrations not listed: release ${staged.facts.releaseId} already serves, so no new code goes live.`)
      return
    }
    reportPending(ctx, await (ctx.listing ?? listReusedRelease(ctx)))
  }
}

/**
 * mode: plan lists them from app-dir with the planning machine's interpreter and the app's env: where Django or the
 * database is not there (a pull-request runner), it says so in one line and the plan goes on.
 */
export async function pendingFromSource(ctx: RunContext, python: string): Promise<PendingMigrations | undefined> {
  const { config } = ctx
  const django: DjangoOptions = { venvPython: python, projectDir: config.appDir, settingsModule: config.settingsModule, env: config.env }
  const run = await runMigrationsScript(ctx.runner, python, config.appDir, iisEnv(django), { pending: true })
  return (
    pendingFrom(run.answers.find(a => a.part === 'pending')) ?? {
      reachable: false,
      failed: 'django',
      pending: [],
      reason: `exit ${run.result.exitCode}: ${run.result.stderr.trim().split(/\r?\n/).pop() ?? ''}`
    }
  )
}

/** What plan.json says about the database. */
export function planMigrations(ctx: RunContext): Pick<PlanDocument, 'migrations'> {
  const found = ctx.pendingMigrations
  const { config } = ctx
  if (!found && !config.migrate && config.releaseCommands.length === 0) return {}
  return {
    migrations: {
      migrate: config.migrate,
      releaseCommands: config.releaseCommands.map(argv => argv.join(' ')),
      reachable: found?.reachable ?? false,
      pending: found?.pending ?? [],
      ...(found ? { note: pendingLine(found, config.migrate) ?? 'no unapplied migrations' } : {})
    }
  }
}

function recordChange(ctx: RunContext): void {
  const change = ctx.database
  if (!change || !ctx.config.migrate) return
  const id = stagedOf(ctx).facts.releaseId
  const meta = readRelease(ctx.layout, id)
  if (!meta) return
  // A re-run of a release that applied nothing keeps what the earlier run recorded.
  if (change.applied.length === 0 && meta.migrationsApplied) return
  writeRelease(ctx.layout, {
    ...meta,
    migrationsApplied: change.applied.length > 0,
    migrations: { applied: change.applied, reverse: change.reverse, ...(change.sqliteBackup ? { sqliteBackup: change.sqliteBackup } : {}) }
  })
}

export const migrateAndRunCommands: Step = {
  name: 'Migrate and release commands',
  phase: 'plain',
  when: ctx => ctx.config.migrate || ctx.config.releaseCommands.length > 0,
  run: async ctx => {
    const { config } = ctx
    const django = djangoOf(ctx)
    try {
      ctx.database = await runDatabaseSteps({
        runner: ctx.runner,
        log: ctx.log,
        redactor: secretsOf(django),
        python: django.venvPython,
        releaseDir: django.projectDir,
        env: iisEnv(django),
        migrate: config.migrate,
        commands: config.releaseCommands,
        // This run's id: a reused release keeps its own id, and an earlier run's copy must not be overwritten.
        backupPath: backupPathFor(ctx.layout, config.releaseId),
        keepBackups: config.keepBackups
      })
      recordChange(ctx)
    } catch (error) {
      if (error instanceof DatabaseStepError) {
        ctx.database = error.change
        // The old release keeps serving: it must find the schema it was built for.
        const restored = await restoreDatabase(ctx)
        if (restored?.ok) ctx.log.info(`Restored: ${restored.text}`)
        else if (restored) ctx.log.warning(`NOT restored: ${restored.text}`)
      }
      throw error
    }
  }
}

/** Puts an SQLite database back from the copy taken before migrate; undefined when there is none to restore. */
export async function restoreDatabase(ctx: RunContext): Promise<{ ok: boolean; text: string } | undefined> {
  const backup = ctx.database?.sqliteBackup
  if (!backup || ctx.database?.restored) return undefined
  try {
    await restoreSqlite(ctx.runner, ctx.layout.venvPython(stagedOf(ctx).facts.venvHash), ctx.layout.root, backup)
    ctx.database = { ...ctx.database!, restored: true }
    return { ok: true, text: `SQLite database ${backup.file} (restored from ${backup.backup}, taken before migrate)` }
  } catch (error) {
    return { ok: false, text: `SQLite database ${backup.file} (${asError(error).message}; the copy is ${backup.backup})` }
  }
}

/**
 * A step after migrate whose failure leaves the old release serving (the SP step, which restores its file and never
 * touches IIS; apply, whose PhaseError means IIS was not changed or was restored from its backup) puts the SQLite
 * copy back too. Any other failure may have left the new release live: the copy stays where it is, named in a warning.
 */
export function restoringDatabase(step: Step, oldReleaseServes: (error: unknown) => boolean): Step {
  return {
    ...step,
    run: async ctx => {
      try {
        return await step.run(ctx)
      } catch (error) {
        if (ctx.database?.sqliteBackup && !ctx.database.restored) {
          if (oldReleaseServes(error)) {
            const restored = await restoreDatabase(ctx)
            if (restored?.ok) ctx.log.info(`Restored: ${restored.text}`)
            else if (restored) warn(ctx, `NOT restored: ${restored.text}`)
          } else {
            warn(ctx, `The SQLite database was migrated and not restored; the copy taken before is ${ctx.database.sqliteBackup.backup}`)
          }
        }
        throw error
      }
    }
  }
}

/**
 * Apply's own failures say IIS is as it was (nothing changed, or its backup restored); a failed check before the
 * switch says the live app was never switched, so the old release served (and serves) against the old schema.
 */
export const applyRestoredIis = (error: unknown): boolean => error instanceof PhaseError && (error.phase === 'apply' || error.beforeSwitch)
