import { maskSecrets, type Log } from '../log.js'
import { quoteForDisplay } from '../plan/plan-file.js'
import type { ProcessResult, ProcessRunner } from '../process.js'
import { describeUnsafe, indexerProblem } from '../inputs/appcmd-values.js'

export { indexerProblem }

export type AppcmdErrorKind = 'exists' | 'notFound' | 'missingElement' | 'locked' | 'other'

/** A value appcmd cannot carry: refused before any process runs. */
export class IndexerValueError extends Error {
  constructor(
    readonly key: string,
    readonly problem: string
  ) {
    super(`appcmd value for '${key}' ${problem}`)
    this.name = 'IndexerValueError'
  }
}

/** appcmd answered `ERROR ( message:... )` or exited non-zero. */
export class AppcmdError extends Error {
  constructor(
    readonly kind: AppcmdErrorKind,
    readonly exitCode: number,
    /** appcmd's own message, secrets masked. */
    readonly appcmdMessage: string,
    /** The argv as logged, secrets masked. */
    readonly shownArgv: string
  ) {
    super(`appcmd ${shownArgv} failed (exit ${exitCode}, ${kind}): ${appcmdMessage}`)
    this.name = 'AppcmdError'
  }
}

/** `[k1='v1',k2='v2']`, refusing values appcmd would misread; `owner` names what the value belongs to. */
export function indexer(pairs: ReadonlyArray<readonly [string, string]>, owner?: string): string {
  const parts = pairs.map(([key, value]) => {
    const problem = indexerProblem(value)
    if (problem) throw new IndexerValueError(owner ? `${key} of ${owner}` : key, problem)
    if (!/^[A-Za-z][A-Za-z0-9.]*$/.test(key)) throw new IndexerValueError(key, 'is not an attribute name')
    return `${key}='${value}'`
  })
  return `[${parts.join(',')}]`
}

/** A plain argv value (after `/attr:`) must still be one line: appcmd reads one command line. */
export function plainValue(key: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new IndexerValueError(key, describeUnsafe('\n'))
  return value
}

// Exit codes as Windows reports them and as a Linux wait status truncates them (modulo 256).
const KIND_BY_EXIT = new Map<number, AppcmdErrorKind>([
  [183, 'exists'],
  [1168, 'notFound'],
  [1168 % 256, 'notFound'],
  [4312, 'missingElement'],
  [4312 % 256, 'missingElement'],
  [32, 'locked']
])

/** The message appcmd printed on stdout, or undefined when it printed no ERROR block. */
export function errorMessage(stdout: string): string | undefined {
  const m = /ERROR \(([\s\S]*?)\)\s*$/.exec(stdout.trim()) ?? /ERROR \(([\s\S]*)\)/.exec(stdout)
  if (!m) return undefined
  const body = m[1] ?? ''
  const msg = /message:([\s\S]*)$/.exec(body)
  return (msg?.[1] ?? body).replace(/\s+/g, ' ').trim()
}

/** Message first: exit codes are ambiguous once truncated, the message is not. */
export function classify(message: string, exitCode: number): AppcmdErrorKind {
  const m = message.toLowerCase()
  if (m.includes('duplicate collection') || m.includes('duplicate collection entry') || m.includes('already exists')) return 'exists'
  if (m.includes('cannot find requested collection element')) return 'missingElement'
  if (/cannot find \S+ object/.test(m) || m.includes('not found')) return 'notFound'
  if (m.includes('being used by another process') || m.includes('hresult:80070020')) return 'locked'
  return KIND_BY_EXIT.get(exitCode) ?? 'other'
}

/**
 * Whether a `list <object> <identifier>` answer means "no such object". Real appcmd's form is not settled
 * (docs/windows-facts.md, ac-list-miss-id), so each plausible one counts: exit 1 with no output (lextm/jexusmanager's
 * clone), exit 0 or 1 with an empty `<appcmd>` / `<appcmd/>`, and `Cannot find <TYPE> object` (1168, or 144
 * once Linux truncates it). Any other ERROR message (locked config, access denied), and any other exit code
 * without a message, is a failure.
 */
export function isListMiss(exitCode: number, stdout: string): boolean {
  const message = errorMessage(stdout)
  // The message names the case whatever the exit code (1168, 144 on Linux); every other ERROR is a failure.
  if (message !== undefined) return /^cannot find \S+ object\b/i.test(message)
  if (exitCode !== 0 && exitCode !== 1) return false
  const text = stdout
    .replace(/^\uFEFF/, '')
    .replace(/<\?xml[^>]*\?>/, '')
    .trim()
  return text === '' || /^<appcmd\s*\/>$/i.test(text) || /^<appcmd\s*>\s*<\/appcmd\s*>$/i.test(text)
}

export interface AppcmdCall {
  argv: string[]
  /** Values inside argv that must be masked wherever the call is shown. */
  secrets?: readonly string[]
  mutates: boolean
}

export interface AppcmdOptions {
  runner: ProcessRunner
  log: Log
  path: string
}

/** Runs appcmd without a shell, logs each call (masked) with its duration, and counts reads and writes. */
export class Appcmd {
  reads = 0
  writes = 0

  constructor(private readonly options: AppcmdOptions) {}

  /** Masks registered secrets and the call's own secret values. */
  show(text: string, secrets: readonly string[] = []): string {
    return this.options.log.redact(maskSecrets(text, secrets))
  }

  async run(call: AppcmdCall): Promise<string> {
    const { result, shown } = await this.exec(call)
    if (result.exitCode !== 0 || errorMessage(result.stdout) !== undefined) throw this.failure(call, result, shown)
    return result.stdout
  }

  read(...argv: string[]): Promise<string> {
    return this.run({ argv, mutates: false })
  }

  /** A `list` by identifier: its stdout, or undefined when appcmd says (in any of its forms) there is no such object. */
  async list(...argv: string[]): Promise<string | undefined> {
    const call = { argv, mutates: false }
    const { result, shown } = await this.exec(call)
    if (isListMiss(result.exitCode, result.stdout)) return undefined
    if (result.exitCode !== 0 || errorMessage(result.stdout) !== undefined) throw this.failure(call, result, shown)
    return result.stdout
  }

  private async exec(call: AppcmdCall): Promise<{ result: ProcessResult; shown: string }> {
    const { runner, log, path } = this.options
    for (const s of call.secrets ?? []) log.secret(s)
    const shown = this.show(call.argv.map(quoteForDisplay).join(' '), call.secrets)
    if (call.mutates) this.writes++
    else this.reads++
    const result = await runner.run(path, call.argv)
    log.info(`appcmd ${shown} → exit ${result.exitCode} in ${result.durationMs} ms`)
    return { result, shown }
  }

  private failure(call: AppcmdCall, result: ProcessResult, shown: string): AppcmdError {
    // A read's stdout can hold other apps' registered variables (secrets no one masked here): never echo it.
    const text = errorMessage(result.stdout) ?? (result.stderr.trim() || (call.mutates ? result.stdout.trim() : '') || 'no error message')
    return new AppcmdError(classify(text, result.exitCode), result.exitCode, this.show(text, call.secrets), shown)
  }

  get calls(): number {
    return this.reads + this.writes
  }
}
