import { maskSecrets } from '../log.js'
import type { Operation, Step } from './types.js'

export interface PlanDocument {
  target: { site: string; appPath: string; pool: string; deployRoot: string; hosting: string }
  mode: string
  release: string
  /** False when no IIS state could be read (no appcmd here): the steps are those of an empty server. */
  diffedAgainstServer: boolean
  /** The deploy plan's steps (src/plan/build.ts), in the order a deploy runs them. */
  operations: Step[]
  files: { path: string; status: 'written' | 'unchanged' }[]
  shibboleth?: { file: string; changed: boolean; diff: string }
  /** The database: what migrate (when on) would apply, or what the new code would go live without (src/migrations/). */
  migrations?: { migrate: boolean; releaseCommands: string[]; reachable: boolean; pending: string[]; note?: string }
}

/** plan.json as written to output-dir; secrets are redacted by the caller's redactor. */
export function planJson(plan: PlanDocument, redact: (text: string) => string): string {
  // Each string is redacted before JSON escapes it (a secret with " or \ would no longer match afterwards), and
  // an operation's own list of secrets never reaches the file.
  const masked = <T extends Operation>(op: T): Omit<T, 'secrets'> => {
    const { secrets = [], ...rest } = op
    return { ...rest, argv: op.argv.map(a => maskSecrets(a, secrets)) }
  }
  const safe = { ...plan, operations: plan.operations.map(masked) }
  return JSON.stringify(safe, (_key, value: unknown) => (typeof value === 'string' ? redact(value) : value), 2) + '\n'
}

/** A readable rendering for the log: one numbered line per operation, with its reason. */
export function planText(plan: PlanDocument, redact: (text: string) => string): string {
  const lines: string[] = []
  const where = `${plan.target.site}${plan.target.appPath === '/' ? '/' : plan.target.appPath}`
  lines.push(`Target ${where} (pool ${plan.target.pool}, ${plan.target.hosting}), release ${plan.release}`)
  if (!plan.diffedAgainstServer)
    lines.push('No IIS state could be read here: planned against an empty server (no app, pool or grants yet).')
  if (plan.operations.length === 0) lines.push('IIS: nothing to change.')
  plan.operations.forEach((op, i) => {
    const argv = op.argv.map(a => maskSecrets(a, op.secrets ?? []))
    lines.push(`${String(i + 1).padStart(3)}. [${op.phase}] ${op.tool} ${argv.map(quoteForDisplay).join(' ')}`)
    lines.push(`       why: ${op.why}`)
  })
  for (const f of plan.files) lines.push(`file ${f.status}: ${f.path}`)
  if (plan.shibboleth) {
    lines.push(`Shibboleth ${plan.shibboleth.file}: ${plan.shibboleth.changed ? 'changes' : 'unchanged'}`)
    if (plan.shibboleth.diff) lines.push(plan.shibboleth.diff)
  }
  return redact(lines.join('\n'))
}

/** Shows one argument the way a Windows shell user would type it. */
export function quoteForDisplay(arg: string): string {
  return /[\s"]/.test(arg) ? `"${arg.replace(/"/g, '\\"')}"` : arg
}
