/** One run of src/python/scripts/diis_migrations.py: the spec on stdin, one marker line per part it ran. */
import { assetPath } from '../assets.js'
import type { ProcessResult, ProcessRunner } from '../process.js'

const MARKER = '@@django-iis-deploy:result@@'

export interface DatabaseInfo {
  alias: string
  vendor: string
  /** SQLite: the database file, absent for an in-memory one. */
  file?: string | null
  exists?: boolean
}

export interface MigrationsAnswer {
  part: string
  ok: boolean
  stdout?: string
  stderr?: string
  traceback?: string
  errors?: { type: string; message: string }[]
  exitCode?: number
  database?: DatabaseInfo
  // pending
  reachable?: boolean
  pending?: string[]
  note?: string
  error?: string
  // backup
  backup?: string
  skipped?: string
  // migrate
  applied?: string[]
  reverse?: { app: string; target: string; argv: string[] }[]
  // command
  index?: number
  argv?: string[]
}

export interface MigrationsSpec {
  pending?: true
  backup?: { to: string }
  migrate?: true
  commands?: string[][]
  restore?: { from: string; to: string }
}

export interface MigrationsRun {
  result: ProcessResult
  answers: MigrationsAnswer[]
}

/** Answers in the order the script gave them; the app's own output never starts a line with the marker. */
export function answersOf(stdout: string): MigrationsAnswer[] {
  return stdout
    .split(/\r?\n/)
    .filter(line => line.startsWith(MARKER))
    .map(line => JSON.parse(line.slice(MARKER.length)) as MigrationsAnswer)
}

export async function runMigrationsScript(
  runner: ProcessRunner,
  python: string,
  cwd: string,
  env: Record<string, string>,
  spec: MigrationsSpec
): Promise<MigrationsRun> {
  // Stdin carries the spec and then ends: a command that asks a question reads end-of-file and fails, never hangs.
  const result = await runner.run(python, [assetPath('python', 'diis_migrations.py')], { cwd, env, input: JSON.stringify(spec) })
  return { result, answers: answersOf(result.stdout) }
}
