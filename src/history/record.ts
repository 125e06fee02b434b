import type { Log } from '../log.js'
import { layoutFor } from '../layout.js'
import { liveRelease, previousRelease } from '../releases.js'
import type { RunReport } from '../report.js'
import { appendHistory, historyFileFor, lastLive, readHistory, type HistoryEntry, type HistoryOutcome } from './store.js'

/** How many entries the job summary shows. */
export const SUMMARY_ENTRIES = 5

export function outcomeOf(report: Pick<RunReport, 'error' | 'rolledBack' | 'changed' | 'checks'>): HistoryOutcome {
  const failed = report.error !== undefined || report.checks.some(c => !c.ok)
  if (failed) return report.rolledBack ? 'failed-rolled-back' : 'failed'
  return report.changed ? 'deployed' : 'no-op'
}

/** The workflow run's page, from the variables every Actions job has; undefined outside Actions. */
export function runUrlOf(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined
}

/**
 * The entry for one finished run. `previousLive` is what IIS served before it: still served after a failure that
 * changed nothing or was rolled back; after a failure that was not rolled back nobody knows.
 */
export function entryFromRun(report: RunReport, env: NodeJS.ProcessEnv, previousLive: string | undefined, now = new Date()): HistoryEntry {
  const outcome = outcomeOf(report)
  const live =
    outcome === 'deployed' || outcome === 'no-op'
      ? report.releaseId
      : outcome === 'failed-rolled-back' || !report.changed
        ? previousLive
        : undefined
  const runUrl = runUrlOf(env)
  return {
    time: now.toISOString(),
    mode: report.mode,
    target: { site: report.target.site, appPath: report.target.appPath },
    releaseId: report.releaseId,
    outcome,
    ...(env.GITHUB_SHA ? { commit: env.GITHUB_SHA } : {}),
    ...(env.GITHUB_ACTOR ? { actor: env.GITHUB_ACTOR } : {}),
    ...(runUrl ? { runUrl } : {}),
    releaseBuilt: report.releaseBuilt ?? false,
    iisChanges: report.objects.filter(o => o.status !== 'unchanged').map(o => `${o.status} ${o.kind} ${o.name}`),
    ...(report.operations ? { iisOperations: report.operations.map(op => [op.tool, ...op.argv.slice(0, 3)].join(' ')) } : {}),
    ...(live ? { live } : {}),
    ...(report.database && report.database.applied.length > 0
      ? { migrations: { applied: report.database.applied, reverse: report.database.reverse, restored: report.database.restored ?? false } }
      : {}),
    ...(report.error !== undefined ? { error: report.error.slice(0, 500) } : {})
  }
}

/**
 * Appends this run to the target's history and puts the last entries and the previous live release into the report.
 * Meant for main's `finally` while the target's lock is held: it never throws, a history it cannot write only warns.
 */
export function recordRun(report: RunReport, env: NodeJS.ProcessEnv, log: Pick<Log, 'warning' | 'redact'>): void {
  const target = { site: report.target.site, appPath: report.target.appPath }
  try {
    const file = historyFileFor(report.target.deployRoot, target)
    const before = readHistory(file, message => log.warning(message))
    // A history started by an earlier version of the action is empty: the release manifests know the last live one.
    const layout = layoutFor(report.target.deployRoot)
    const previous =
      lastLive(before) ?? (outcomeOf(report) === 'deployed' ? previousRelease(layout, report.releaseId, target) : liveRelease(layout))?.id
    if (previous) report.previousRelease = previous
    const entry = entryFromRun(report, env, previous)
    appendHistory(file, entry, text => log.redact(text))
    report.history = [...before, JSON.parse(log.redact(JSON.stringify(entry))) as HistoryEntry].slice(-SUMMARY_ENTRIES)
  } catch (error) {
    log.warning(`release history not written: ${(error as Error).message}`)
  }
}
