/** What mode: doctor found, one row per check: the table in the log and in the job summary. */
export type FindingStatus = 'ok' | 'warn' | 'fail'

export interface Finding {
  check: string
  status: FindingStatus
  detail: string
  /** The exact command (or input) that fixes it; every warn and fail finding has one. */
  fix?: string
}

const MARK: Record<FindingStatus, string> = { ok: '✅ ok', warn: '⚠️ warn', fail: '❌ fail' }

export function failures(findings: readonly Finding[]): Finding[] {
  return findings.filter(f => f.status === 'fail')
}

/** The job summary: a headline and one table. `cell` and `code` escape as the run report does (src/report.ts). */
export function renderDoctor(findings: readonly Finding[], cell: (text: string) => string, code: (text: string) => string): string {
  const failed = failures(findings).length
  const warned = findings.filter(f => f.status === 'warn').length
  const headline =
    failed > 0
      ? `❌ doctor: ${failed} problem(s) a deploy would fail on`
      : `✅ doctor: ready to deploy${warned > 0 ? ` (${warned} warning(s))` : ''}`
  const out = [`## ${headline}`, '', '| Check | Result | Finding | Fix |', '| --- | --- | --- | --- |']
  for (const f of findings) out.push(`| ${cell(f.check)} | ${MARK[f.status]} | ${cell(f.detail)} | ${f.fix ? code(f.fix) : ''} |`)
  out.push('')
  return out.join('\n')
}

/** The same table as plain lines for the log. */
export function findingLines(findings: readonly Finding[]): string[] {
  const width = Math.max(...findings.map(f => f.check.length), 5)
  return findings.map(
    f => `${f.status.toUpperCase().padEnd(4)}  ${f.check.padEnd(width)}  ${f.detail}${f.fix ? `\n      fix: ${f.fix}` : ''}`
  )
}
