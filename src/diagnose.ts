import fs from 'node:fs'
import type { Log } from './log.js'
import type { UrlCheckResult } from './verify/checks.js'
import { HINTS, textOf, type HintRule } from './diagnose-hints.js'

export { HINTS, type HintRule }

/** What a failure left behind: a response, log tails, preflight output. Every field is optional. */
export interface Evidence {
  /** Kind of the check that failed, when the evidence comes from verify ('main', 'static', 'protected', ...). */
  check?: string
  status?: number
  contentType?: string
  body?: string
  /** The check's or the phase's own one-line failure. */
  detail?: string
  wsgiLogTail?: string
  stdoutLogTail?: string
  preflightOutput?: string
  /** Host name the request used, named in hints when the evidence itself does not carry it. */
  host?: string
}

export interface Hint {
  id: string
  /** The known cause, as users see it. */
  cause: string
  /** What to change: an input of this action or a server setting. */
  hint: string
}

/** The hints whose cause matches the evidence, in table order. */
export function diagnose(evidence: Evidence): Hint[] {
  const text = textOf(evidence)
  const hints: Hint[] = []
  for (const rule of HINTS) {
    let capture: string | undefined
    if (rule.matches instanceof RegExp) {
      const m = rule.matches.exec(text)
      if (!m) continue
      capture = m[1]
    } else if (!rule.matches(evidence)) {
      continue
    }
    const filler = capture || evidence.host || 'the host name of verify-url'
    hints.push({ id: rule.id, cause: rule.cause, hint: rule.hint.replace('{1}', filler) })
  }
  return hints
}

/**
 * Evidence from each failed check, sharing the server-side log tails. `hostHeader` is verify-host: the name
 * the server saw, which is the one a DisallowedHost hint must name.
 */
export function evidenceFromChecks(
  checks: UrlCheckResult[],
  context: Pick<Evidence, 'wsgiLogTail' | 'stdoutLogTail'> & { hostHeader?: string } = {}
): Evidence[] {
  const { hostHeader, ...logs } = context
  return checks
    .filter(c => !c.ok)
    .map(c => ({
      check: c.kind,
      status: c.status,
      contentType: c.contentType,
      body: c.bodyStart,
      detail: c.detail,
      host: hostHeader ? hostHeader.replace(/:\d+$/, '') : hostOf(c.url),
      ...logs
    }))
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname
  } catch {
    return undefined
  }
}

/** The hints for several pieces of evidence, each hint once. */
export function diagnoseAll(evidence: Evidence[]): Hint[] {
  const seen = new Map<string, Hint>()
  for (const e of evidence) for (const h of diagnose(e)) if (!seen.has(h.id)) seen.set(h.id, h)
  return [...seen.values()]
}

const TAIL_BYTES = 64 * 1024

/**
 * The last `lines` lines of a log file, reading only its end (WSGI_LOG grows without bound). Never throws:
 * a missing or unreadable file is reported in the returned text, which is itself evidence.
 */
export function tailFile(path: string, lines = 40): string {
  let fd: number | undefined
  try {
    fd = fs.openSync(path, 'r')
    const size = fs.fstatSync(fd).size
    if (size === 0) return `(${path} is empty)`
    const length = Math.min(size, TAIL_BYTES)
    const buffer = Buffer.alloc(length)
    fs.readSync(fd, buffer, 0, length, size - length)
    let all = buffer.toString('utf8').split(/\r?\n/)
    // A read that starts mid-file starts mid-line: drop the fragment.
    if (length < size) all = all.slice(1)
    if (all.at(-1) === '') all.pop()
    return all.slice(-lines).join('\n')
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ENOENT') return `(no file at ${path}: the process never wrote to it, or cannot)`
    if (code === 'EACCES' || code === 'EPERM') return `(${path} is not readable by the runner: ${code})`
    return `(${path} could not be read: ${(error as Error).message})`
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** Prints the evidence and the hints in one log group, and returns the hints for the summary. */
export async function reportDiagnosis(log: Log, evidence: Evidence[], title = 'Diagnosis'): Promise<Hint[]> {
  const hints = diagnoseAll(evidence)
  await log.group(title, async () => {
    for (const e of evidence) {
      if (e.check || e.status !== undefined)
        log.info(
          `${e.check ?? 'request'}: ${e.status !== undefined ? `HTTP ${e.status}` : 'no response'}${e.detail ? ` — ${e.detail}` : ''}`
        )
      if (e.body) log.info(`first lines of the body:\n${e.body}`)
    }
    // Log tails are usually shared by every piece of evidence: print each distinct one once.
    const once = (label: string, texts: (string | undefined)[]): void => {
      for (const text of new Set(texts.filter(Boolean))) log.info(`${label}:\n${text}`)
    }
    once(
      'last lines of WSGI_LOG',
      evidence.map(e => e.wsgiLogTail)
    )
    once(
      "last lines of the app's stdout log",
      evidence.map(e => e.stdoutLogTail)
    )
    once(
      'preflight output',
      evidence.map(e => e.preflightOutput)
    )
    if (hints.length === 0) log.info('no known cause matched; the lines above are what the server said')
    for (const h of hints) log.info(`hint (${h.id}): ${h.cause}. ${h.hint}`)
  })
  return hints
}
