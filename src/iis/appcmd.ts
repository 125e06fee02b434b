import { maskSecrets, type Log } from '../log.js'
import { quoteForDisplay } from '../plan/plan-file.js'
import type { ProcessRunner } from '../process.js'

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

// A single-quoted indexer value cannot hold a quote (escaping is unverified), and ] or a line break ends it.
const UNSAFE_IN_INDEXER = /['\]\r\n]/

function describeUnsafe(ch: string): string {
  if (ch === "'") return "contains ', which appcmd cannot pass inside a collection indexer"
  if (ch === ']') return 'contains ], which ends an appcmd collection indexer'
  return 'contains a line break, which appcmd cannot pass'
}

/** Why appcmd could not carry `value` inside an indexer, or undefined when it can: checked once, for inputs too. */
export function indexerProblem(value: string): string | undefined {
  const bad = UNSAFE_IN_INDEXER.exec(value)
  return bad ? describeUnsafe(bad[0]) : undefined
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
    const { runner, log, path } = this.options
    for (const s of call.secrets ?? []) log.secret(s)
    const shown = this.show(call.argv.map(quoteForDisplay).join(' '), call.secrets)
    if (call.mutates) this.writes++
    else this.reads++
    const result = await runner.run(path, call.argv)
    const message = errorMessage(result.stdout)
    log.info(`appcmd ${shown} → exit ${result.exitCode} in ${result.durationMs} ms`)
    if (result.exitCode !== 0 || message !== undefined) {
      // A read's stdout can hold other apps' registered variables (secrets no one masked here): never echo it.
      const text = message ?? (result.stderr.trim() || (call.mutates ? result.stdout.trim() : '') || 'no error message')
      throw new AppcmdError(classify(text, result.exitCode), result.exitCode, this.show(text, call.secrets), shown)
    }
    return result.stdout
  }

  read(...argv: string[]): Promise<string> {
    return this.run({ argv, mutates: false })
  }

  get calls(): number {
    return this.reads + this.writes
  }
}
