/**
 * The database steps of a deploy, in one Django process in the new release: back up an SQLite database, migrate,
 * then the release commands. Each part's output gets its own log group; the first failure stops the run before
 * the switch, with the part's own error.
 */
import fs from 'node:fs'
import path from 'node:path'
import { PhaseError } from '../errors.js'
import { pathApi, type Layout } from '../layout.js'
import type { Log, Redactor } from '../log.js'
import type { ProcessRunner } from '../process.js'
import { appProcessEnv } from '../python/environment.js'
import { outputTail } from '../python/output.js'
import { runMigrationsScript, type MigrationsAnswer, type MigrationsRun } from './script.js'

/** What the run did to the database: kept in the report and the release record. */
export interface DatabaseChange {
  /** Migrations this run applied, app.name, in the order they ran. */
  applied: string[]
  /** The manage.py commands that would reverse them, last applied app first. */
  reverse: string[]
  /** The SQLite file and its copy taken before migrate. */
  sqliteBackup?: { file: string; backup: string }
  /** The release commands that ran, as written. */
  commands: string[]
  /** A rollback put the SQLite backup back. */
  restored?: boolean
}

export interface DatabaseStepOptions {
  runner: ProcessRunner
  log: Log
  redactor: Redactor
  python: string
  releaseDir: string
  env: Record<string, string>
  migrate: boolean
  commands: string[][]
  /** Where an SQLite database is copied before migrate: under deploy-root, never under the web root. */
  backupPath: string
  /** How many SQLite copies to keep (keep-backups). */
  keepBackups: number
}

export function backupPathFor(layout: Layout, releaseId: string): string {
  return pathApi(layout.flavour).join(layout.root, 'db-backups', `before-${releaseId}.sqlite3`)
}

const commandText = (argv: readonly string[]): string => `manage.py ${argv.join(' ')}`

function failureText(answer: MigrationsAnswer | undefined, run: MigrationsRun): string {
  if (!answer) return outputTail(run.result)
  const trace = answer.traceback ? `\n${answer.traceback}` : ''
  return outputTail({ stdout: answer.stdout ?? '', stderr: `${answer.stderr ?? ''}${trace}` }, 25)
}

function show(log: Log, redactor: Redactor, answer: MigrationsAnswer): void {
  const text = `${answer.stdout ?? ''}${answer.stderr ? `\n${answer.stderr}` : ''}`.trim()
  if (text) log.info(redactor.redact(text))
}

export async function runDatabaseSteps(opts: DatabaseStepOptions): Promise<DatabaseChange> {
  const { log, redactor } = opts
  const run = await runMigrationsScript(opts.runner, opts.python, opts.releaseDir, opts.env, {
    ...(opts.migrate ? { backup: { to: opts.backupPath }, migrate: true as const } : {}),
    commands: opts.commands
  })
  const change: DatabaseChange = { applied: [], reverse: [], commands: [] }
  const byPart = (part: string): MigrationsAnswer | undefined => run.answers.find(a => a.part === part)

  if (opts.migrate) {
    const backup = byPart('backup')
    await log.group('Database backup', async () => {
      if (!backup?.ok)
        throw new PhaseError('migrate', redactor.redact(`the database backup before migrate failed:\n${failureText(backup, run)}`))
      if (backup.backup && backup.database?.file) {
        change.sqliteBackup = { file: backup.database.file, backup: backup.backup }
        log.info(`SQLite ${backup.database.file} copied to ${backup.backup} (restored if this run rolls back).`)
        const removed = pruneSqliteBackups(backup.backup, opts.keepBackups)
        if (removed.length > 0) log.info(`Older database copies removed (keep-backups ${opts.keepBackups}): ${removed.join(', ')}`)
      } else log.info(`No backup taken: ${backup.skipped ?? 'not an SQLite file'}.`)
    })
    const migrated = byPart('migrate')
    await log.group('manage.py migrate --noinput', async () => {
      if (migrated) show(log, redactor, migrated)
      change.applied = migrated?.applied ?? []
      change.reverse = (migrated?.reverse ?? []).map(r => `python manage.py migrate ${r.app} ${r.target}`)
      if (!migrated?.ok) {
        const applied = change.applied.length > 0 ? ` It applied ${change.applied.join(', ')} before failing.` : ''
        throw new DatabaseStepError(
          redactor.redact(
            `manage.py migrate failed (exit ${migrated?.exitCode ?? run.result.exitCode}); the release was not switched to.${applied}\n${failureText(migrated, run)}`
          ),
          'fix the migration; the old release still serves',
          change
        )
      }
      log.info(change.applied.length > 0 ? `Applied ${change.applied.length}: ${change.applied.join(', ')}` : 'No migrations to apply.')
    })
  }

  for (const [index, argv] of opts.commands.entries()) {
    const answer = run.answers.find(a => a.part === 'command' && a.index === index)
    await log.group(commandText(argv), async () => {
      if (answer) show(log, redactor, answer)
      if (!answer?.ok) {
        throw new DatabaseStepError(
          redactor.redact(
            `release command '${argv.join(' ')}' failed (exit ${answer?.exitCode ?? run.result.exitCode}); the release was not switched to.\n${failureText(answer, run)}`
          ),
          `fix or remove '${argv[0] ?? ''}' in release-commands; the old release still serves`,
          change
        )
      }
      change.commands.push(argv.join(' '))
    })
  }
  return change
}

/** A failure after the database may have changed: carries what changed, so the flow can restore or report it. */
export class DatabaseStepError extends PhaseError {
  constructor(
    message: string,
    hint: string,
    readonly change: DatabaseChange
  ) {
    super('migrate', message, hint)
  }
}

/**
 * Keeps the newest `keep` SQLite copies (by name order of modification time); each is a whole database, so they must
 * not pile up one per deploy. Returns the files removed.
 */
export function pruneSqliteBackups(backupPath: string, keep: number): string[] {
  const dir = path.dirname(backupPath)
  let names: string[]
  try {
    names = fs.readdirSync(dir).filter(n => n.startsWith('before-') && n.endsWith('.sqlite3'))
  } catch {
    return []
  }
  const byAge = names
    .map(n => ({ file: path.join(dir, n), mtime: fs.statSync(path.join(dir, n)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime)
  const removed = byAge
    .slice(Math.max(keep, 1))
    .map(b => b.file)
    .filter(f => f !== backupPath)
  for (const file of removed) fs.rmSync(file, { force: true })
  return removed
}

/** Copies the backup back over the SQLite file with sqlite3's backup API; throws with the script's output. */
export async function restoreSqlite(
  runner: ProcessRunner,
  python: string,
  cwd: string,
  backup: { file: string; backup: string }
): Promise<void> {
  if (!fs.existsSync(backup.backup)) throw new Error(`the backup ${backup.backup} is missing`)
  const run = await runMigrationsScript(runner, python, cwd, appProcessEnv([]), { restore: { from: backup.backup, to: backup.file } })
  const answer = run.answers.find(a => a.part === 'restore')
  if (!answer?.ok) throw new Error(`restoring ${backup.file} from ${backup.backup} failed:\n${failureText(answer, run)}`)
}
