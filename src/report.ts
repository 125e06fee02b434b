import * as core from './workflow-commands.js'
import type { DatabaseChange } from './migrations/run.js'
import { databaseSection } from './migrations/summary.js'
import type { Hint } from './diagnose.js'
import type { Log } from './log.js'
import type { Mode } from './config.js'
import type { UrlCheckResult } from './verify/checks.js'
import type { HistoryEntry } from './history/store.js'
import type { Operation } from './plan/types.js'
import { renderDoctor, type Finding } from './doctor/findings.js'

export type ObjectStatus = 'created' | 'changed' | 'unchanged' | 'removed'

/** Everything one run did, gathered by main as it goes and rendered once, in `finally`. */
export interface RunReport {
  mode: Mode
  target: { site: string; appPath: string; pool: string; deployRoot: string }
  releaseId: string
  url: string
  planPath: string
  changed: boolean
  rolledBack: boolean
  objects: { kind: string; name: string; status: ObjectStatus }[]
  files: { path: string; status: 'written' | 'unchanged' }[]
  /** recycledPools: the app pools recycled so the IIS module reads a changed <ISAPI>. */
  shibboleth?: { changed: boolean; restarted: boolean; recycledPools?: string[] }
  phases: { name: string; ms: number; ok: boolean }[]
  checks: UrlCheckResult[]
  rollback?: { ok: boolean; detail: string; checks: UrlCheckResult[] }
  hints: Hint[]
  warnings: string[]
  error?: string
  /** verify-insecure was on: always shown as a warning. */
  insecureTls?: boolean
  /** The appcmd and icacls writes apply ran (deploy mode), for the release history. */
  operations?: Operation[]
  /** Stage built the release (false: it reused one with the same fingerprint). */
  releaseBuilt?: boolean
  /** The target's last history entries, this run's last (src/history/record.ts). */
  history?: HistoryEntry[]
  /** The release IIS served before this run, from the history. */
  previousRelease?: string
  /** mode: doctor's findings: the summary is their table alone. */
  doctor?: Finding[]
  /** An earlier run's unfinished journal, recovered before this run (src/journal/recover.ts). */
  recovery?: { ok: boolean; releaseId: string; notice: string }
  /** What migrate and the release commands did (src/migrations/). */
  database?: DatabaseChange
}

export type Redact = (text: string) => string
const keep: Redact = text => text

export const INSECURE_TLS_WARNING = 'verify-insecure is on: TLS certificates of the checked URLs were not verified'

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

/** A longer run of backticks than the text holds, so a body cannot close its code block. */
function fence(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map(run => run.length))
  return '`'.repeat(longest + 1)
}

/**
 * Renders the job summary. Pure: the same report gives the same markdown. Every text from the report passes
 * through `redact` before it is escaped (escaping could split a secret), and the result passes once more.
 */
export function renderSummary(report: RunReport, redact: Redact = keep): string {
  const plain = (text: string): string => redact(text)
  // Table cells: one line, no HTML from server responses, no stray column separators.
  const cell = (text: string): string =>
    plain(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
  const code = (text: string): string => `\`${cell(text).replace(/`/g, "'")}\``
  const row = (...cells: string[]): string => `| ${cells.join(' | ')} |`
  const out: string[] = []
  if (report.doctor) return redact(renderDoctor(report.doctor, cell, code))

  const failed = report.error !== undefined || report.checks.some(c => !c.ok)
  const verb =
    report.mode === 'deploy' ? 'Deployed' : report.mode === 'rollback' ? 'Rolled back to' : report.mode === 'stage' ? 'Staged' : 'Planned'
  const headline = failed
    ? `❌ ${report.mode} of release ${code(report.releaseId)} failed${report.rolledBack ? ', previous release restored' : ''}`
    : `✅ ${verb} release ${code(report.releaseId)}`
  out.push(`## ${headline}`, '')

  const t = report.target
  out.push(
    row('Target', ''),
    row('---', '---'),
    row('Mode', cell(report.mode)),
    row('Site', cell(t.site)),
    row('App path', code(t.appPath)),
    row('App pool', cell(t.pool)),
    row('Deploy root', code(t.deployRoot)),
    row('Release', code(report.releaseId)),
    row('URL', cell(report.url)),
    row('Plan', code(report.planPath)),
    row('Changed', report.changed ? 'yes' : 'no'),
    row('Rolled back', report.rolledBack ? 'yes' : 'no'),
    ''
  )

  if (report.error !== undefined) out.push(`**Error:** ${cell(report.error)}`, '')
  if (report.recovery) out.push(`**${report.recovery.ok ? 'Recovered' : 'NOT recovered'}:** ${cell(report.recovery.notice)}`, '')

  const warnings = [...report.warnings]
  if (report.insecureTls && !warnings.includes(INSECURE_TLS_WARNING)) warnings.unshift(INSECURE_TLS_WARNING)
  for (const w of warnings) out.push(`> ⚠️ **Warning:** ${cell(w)}`, '')
  out.push(...databaseSection(report.database, code, plain))

  if (report.objects.length > 0) {
    const counts = (['created', 'changed', 'removed', 'unchanged'] as const)
      .map(s => [s, report.objects.filter(o => o.status === s).length] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ')
    out.push(`### IIS objects (${counts})`, '', row('Kind', 'Name', 'Status'), row('---', '---', '---'))
    for (const o of report.objects) out.push(row(cell(o.kind), cell(o.name), o.status))
    out.push('')
  }

  if (report.files.length > 0) {
    const written = report.files.filter(f => f.status === 'written').length
    out.push(`### Files (${written} written, ${report.files.length - written} unchanged)`, '', row('Path', 'Status'), row('---', '---'))
    for (const f of report.files) out.push(row(code(f.path), f.status))
    out.push('')
  }

  if (report.shibboleth) {
    const s = report.shibboleth
    const what = s.changed ? `configuration changed; service ${s.restarted ? 'restarted' : 'not restarted'}` : 'configuration unchanged'
    const pools = s.recycledPools?.length
      ? ` App pools recycled for the IIS module's site list: ${s.recycledPools.map(code).join(', ')}.`
      : ''
    out.push('### Shibboleth SP', '', `Shibboleth SP ${what}.${pools}`, '')
  }

  if (report.phases.length > 0) {
    out.push('### Phases', '', row('Phase', 'Time', 'Result'), row('---', '---:', '---'))
    for (const p of report.phases) out.push(row(cell(p.name), duration(p.ms), p.ok ? '✅ ok' : '❌ failed'))
    out.push('')
  }

  const checkTable = (title: string, checks: UrlCheckResult[]): void => {
    out.push(
      title,
      '',
      row('Check', 'URL', 'Result', 'Status', 'Time', 'Attempts', 'Detail'),
      row('---', '---', '---', '---:', '---:', '---:', '---')
    )
    for (const c of checks) {
      out.push(
        row(
          cell(c.name),
          cell(c.url),
          c.ok ? '✅ passed' : '❌ failed',
          c.status === undefined ? '—' : String(c.status),
          duration(c.ms),
          String(c.attempts),
          cell(c.detail)
        )
      )
    }
    out.push('')
  }
  if (report.checks.length > 0) checkTable('### Verify', report.checks)

  if (report.rollback) {
    const r = report.rollback
    out.push('### Rollback', '', `${r.ok ? '✅ Rollback succeeded' : '❌ Rollback failed'}: ${cell(r.detail)}`, '')
    if (r.checks.length > 0) checkTable('#### Verify of the restored release', r.checks)
  }

  if (report.hints.length > 0) {
    out.push('### Diagnosis', '')
    for (const h of report.hints) out.push(`- **${cell(h.cause)}** — ${cell(h.hint)}`)
    out.push('')
  }

  if (report.history && report.history.length > 0) {
    out.push(
      '### Release history',
      '',
      row('Time', 'Release', 'Outcome', 'Commit', 'Actor', 'IIS writes', 'Run'),
      row('---', '---', '---', '---', '---', '---:', '---')
    )
    for (const h of [...report.history].reverse()) {
      const run = h.runUrl ? `[run](${encodeURI(h.runUrl)})` : '—'
      const built = h.releaseBuilt ? ' (built)' : ''
      const commit = h.commit ? code(h.commit.slice(0, 12)) : '—'
      out.push(
        row(
          cell(h.time),
          `${code(h.releaseId)}${built}`,
          cell(h.outcome),
          commit,
          cell(h.actor ?? '—'),
          h.iisOperations ? String(h.iisOperations.length) : '—',
          run
        )
      )
    }
    out.push('')
  }

  const bodies = [...report.checks, ...(report.rollback?.checks ?? [])].filter(c => !c.ok && c.bodyStart)
  for (const c of bodies) {
    const body = plain(c.bodyStart ?? '')
    const f = fence(body)
    out.push(
      `<details><summary>First lines of the response: ${cell(c.name)} (${cell(c.url)})</summary>`,
      '',
      `${f}text`,
      body,
      f,
      '',
      '</details>',
      ''
    )
  }

  return redact(out.join('\n'))
}

export interface SummaryWriter {
  addRaw(text: string, addEOL?: boolean): unknown
  write(): Promise<unknown>
  emptyBuffer?(): unknown
}

/**
 * Appends the rendered report to the job summary. Meant for main's `finally`, so it never throws: outside a
 * runner (no GITHUB_STEP_SUMMARY) or on a write error it says why in the log and returns false.
 */
export async function writeSummary(
  report: RunReport,
  summary: SummaryWriter = core.summary,
  options: { redact?: Redact; log?: Pick<Log, 'warning'> } = {}
): Promise<boolean> {
  try {
    summary.addRaw(renderSummary(report, options.redact), true)
    await summary.write()
    return true
  } catch (error) {
    // Left in the buffer, the text would be written twice by a later successful write.
    summary.emptyBuffer?.()
    options.log?.warning(`job summary not written: ${(error as Error).message}`)
    return false
  }
}

export type OutputSetter = (name: string, value: string) => void

/** The action's outputs (action.yml): url, release, changed, rolled-back, plan, previous-release. */
export function setOutputs(report: RunReport, set: OutputSetter = core.setOutput): void {
  set('url', report.url)
  set('release', report.releaseId)
  set('changed', String(report.changed))
  set('rolled-back', String(report.rolledBack))
  set('plan', report.planPath)
  set('previous-release', report.previousRelease ?? '')
}

/** The report before a run has learnt anything: the summary and outputs are written from it whatever happens. */
export function emptyReport(): RunReport {
  return {
    mode: 'deploy',
    target: { site: '', appPath: '', pool: '', deployRoot: '' },
    releaseId: '',
    url: '',
    planPath: '',
    changed: false,
    rolledBack: false,
    objects: [],
    files: [],
    phases: [],
    checks: [],
    hints: [],
    warnings: []
  }
}
