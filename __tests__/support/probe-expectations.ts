import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** One accepted (or rejected) answer of a probe check, as scripts/probe-iis.ps1 declares it. */
export interface ProbeForm {
  form: string
  exit?: number[]
  exitNot?: number[]
  stdout?: string
  stderr?: string
}

export interface ProbeCheck {
  fact: string
  disruptive: boolean
  runs: string
  assumes: string
  accept: ProbeForm[]
  reject?: ProbeForm[]
}

/** What a check saw: a process's answer, a composed text (exit null), or a reason it could not run. */
export type ProbeObservation = { exit: number | null; stdout: string; stderr: string } | { skipped: string }

export interface ProbeVerdict {
  verdict: 'PASS' | 'FAIL' | 'UNSETTLED'
  form: string
}

export const PROBE_SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'probe-iis.ps1')

/** The JSON between the script's EXPECTATIONS markers: the same text the script parses on Windows. */
export function probeExpectationsText(script = readFileSync(PROBE_SCRIPT, 'utf8')): string {
  const m = /# ---- BEGIN EXPECTATIONS[^\n]*\n\$ExpectationsJson = @'\r?\n([\s\S]*?)\r?\n'@\r?\n# ---- END EXPECTATIONS ----/.exec(script)
  if (!m?.[1]) throw new Error(`${PROBE_SCRIPT}: no EXPECTATIONS block`)
  return m[1]
}

export function probeExpectations(): Record<string, ProbeCheck> {
  return JSON.parse(probeExpectationsText()) as Record<string, ProbeCheck>
}

/**
 * The rule of the script's Test-Form and Get-Verdict, restated: a form matches when the exit code is in `exit`,
 * not in `exitNot`, and the regexes match case-insensitively; a reject form wins over the accept forms.
 * `exitModulo256` lets the Linux doubles' truncated exit codes (1168 seen as 144) count as the Windows ones.
 */
export function probeVerdict(check: ProbeCheck, obs: ProbeObservation | undefined, exitModulo256 = false): ProbeVerdict {
  if (obs === undefined) return { verdict: 'UNSETTLED', form: 'not run' }
  if ('skipped' in obs) return { verdict: 'UNSETTLED', form: obs.skipped }
  const exitIs = (codes: number[]) => obs.exit !== null && codes.some(c => c === obs.exit || (exitModulo256 && c % 256 === obs.exit))
  const matches = (f: ProbeForm) =>
    (f.exit === undefined || exitIs(f.exit)) &&
    (f.exitNot === undefined || !exitIs(f.exitNot)) &&
    (f.stdout === undefined || new RegExp(f.stdout, 'i').test(obs.stdout)) &&
    (f.stderr === undefined || new RegExp(f.stderr, 'i').test(obs.stderr))
  const rejected = (check.reject ?? []).find(matches)
  if (rejected) return { verdict: 'FAIL', form: rejected.form }
  const accepted = check.accept.find(matches)
  return accepted ? { verdict: 'PASS', form: accepted.form } : { verdict: 'FAIL', form: 'no accepted form' }
}
