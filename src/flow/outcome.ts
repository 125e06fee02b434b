/** The end of every run: the report built from the context in one place, and a failure turned into one error line. */
import { reportDiagnosis, type Evidence } from '../diagnose.js'
import { asError, InputError, PhaseError } from '../errors.js'
import type { Phases } from '../phases.js'
import { DISK_FULL_HINT } from '../python/venv.js'
import { emptyReport, type RunReport } from '../report.js'
import { withoutCredentials } from '../verify/url-credentials.js'
import type { RunContext, RunDeps } from './context.js'
import { changedBy } from './deploy-steps.js'

/**
 * Whether the run put the previous state back: what undoing it restored (apply's own rollback, the SP config,
 * a failed verify's rollback), and no part of that undo failed.
 */
export function rolledBack(ctx: RunContext | undefined, error: Error | undefined): boolean {
  if (ctx?.restored && !ctx.restored.ok) return false
  if (ctx?.restored?.restoredAnything) return true
  return error instanceof PhaseError && error.rolledBack
}

/** The run's report: everything the context learnt, and the error that stopped it. */
export function reportFrom(
  deps: RunDeps,
  ctx: RunContext | undefined,
  phases: Phases,
  error: Error | undefined,
  hints: RunReport['hints']
): RunReport {
  const report = emptyReport()
  report.phases = phases.list
  if (error) report.error = deps.log.redact(error.message)
  report.rolledBack = rolledBack(ctx, error)
  report.hints = hints
  if (!ctx) return report
  if (ctx.onDemand) {
    const own = ctx.onDemand
    return { ...own, mode: ctx.config.mode, phases: report.phases, error: report.error || own.error, hints, rolledBack: own.rolledBack }
  }
  const { config } = ctx
  const applied = ctx.applied
  const sp = ctx.shibboleth
  return {
    ...report,
    mode: config.mode,
    target: { site: config.siteName, appPath: config.appPath, pool: config.appPool, deployRoot: config.deployRoot },
    releaseId: ctx.stage?.facts.releaseId ?? config.releaseId,
    url: withoutCredentials(config.verify.url),
    insecureTls: config.verify.insecure,
    planPath: ctx.planPath,
    changed: changedBy(ctx),
    ...(ctx.stage ? { releaseBuilt: !ctx.stage.releaseReused } : {}),
    files: ctx.files,
    ...(applied ? { objects: applied.objects, operations: applied.operations.filter(op => op.mutates) } : {}),
    ...(sp
      ? { shibboleth: { changed: sp.changed, restarted: sp.changed, ...(ctx.recycledPools ? { recycledPools: ctx.recycledPools } : {}) } }
      : {}),
    checks: ctx.checks,
    ...(ctx.rollback ? { rollback: ctx.rollback } : {}),
    hints: [...ctx.hints, ...hints],
    warnings: ctx.warnings,
    ...(ctx.doctor ? { doctor: ctx.doctor } : {}),
    ...(ctx.recovery ? { recovery: ctx.recovery } : {}),
    ...(ctx.database ? { database: ctx.database } : {})
  }
}

/**
 * Fails the step with one line: bad input names the input and the fix, nothing else; other failures add a hint
 * and, where one helps, a diagnosis (returned for the report).
 */
export async function failRun(deps: RunDeps, thrown: unknown): Promise<RunReport['hints']> {
  const { log } = deps
  const error = asError(thrown)
  if (error instanceof InputError) {
    deps.setFailed(log.redact(error.message))
    return []
  }
  let hints: RunReport['hints'] = []
  if (error instanceof PhaseError && error.phase !== 'verify') {
    // Verify printed its own diagnosis with the responses; other phases have their output to go on.
    const evidence: Evidence =
      error.phase === 'preflight' ? { preflightOutput: error.message, detail: error.hint } : { detail: error.message }
    hints = await reportDiagnosis(log, [evidence])
  }
  const why = error instanceof PhaseError ? error.hint : (error as NodeJS.ErrnoException).code === 'ENOSPC' ? DISK_FULL_HINT : undefined
  const hint = why ? ` Hint: ${why}` : ''
  if (!(error instanceof PhaseError)) log.debug(error.stack ?? '')
  deps.setFailed(log.redact(`${error.message}${hint}`))
  return hints
}
