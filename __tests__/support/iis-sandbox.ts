import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execRunner, type ProcessRunner } from '../../src/process.js'
import { doubleRunner } from './double-runner.js'
import type { AppcmdCall } from './doubles/appcmd-core.js'
import type { AclRecord } from './doubles/icacls-core.js'

export type { AppcmdCall } from './doubles/appcmd-core.js'
export type { AclRecord } from './doubles/icacls-core.js'

const SUPPORT_DIR = dirname(fileURLToPath(import.meta.url))

function withoutDroppedBackups(calls: AppcmdCall[]): AppcmdCall[] {
  const name = (c: AppcmdCall, verb: string): string | undefined =>
    c.argv[0] === verb && c.argv[1] === 'backup' && c.exitCode === 0 ? c.argv[2] : undefined
  const deleted = new Set(calls.map(c => name(c, 'delete')).filter(n => n !== undefined))
  const dropped = new Set(calls.map(c => name(c, 'add')).filter(n => n !== undefined && deleted.has(n)))
  return calls.filter(c => !dropped.has(name(c, 'add') ?? name(c, 'delete') ?? ''))
}

export interface IisSandboxOptions {
  /** applicationHost.config text to start from instead of the fresh-server seed. */
  seedConfig?: string
  /** Fail the k-th mutating appcmd call (1-based) with exit 32 and no change. */
  failAt?: number
}

export interface IisSandbox {
  dir: string
  configPath: string
  backupsDir: string
  appcmdPath: string
  icaclsPath: string
  /** Merge into a child's environment: PATH with the doubles first, plus the doubles' own variables. */
  env: Record<string, string>
  calls(): AppcmdCall[]
  mutatingCalls(): AppcmdCall[]
  /**
   * The mutating calls other than a backup added and deleted again (a restore point a run took beside its release
   * check and dropped when it stopped before apply): what changed IIS.
   */
  changingCalls(): AppcmdCall[]
  aclGrants(): AclRecord[]
  readConfig(): string
  /** Arms (or with undefined, disarms) a commit failure at the k-th mutating call, counted from the last reset. */
  failAt(k: number | number[] | undefined): void
  /** Forgets the recorded appcmd calls and ACL changes, so counting starts again at 1. */
  resetCounters(): void
  cleanup(): void
}

const readJsonLines = <T>(file: string): T[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(line => line.trim() !== '')
        .map(line => JSON.parse(line) as T)
    : []

/** A fresh fake IIS server in a temporary folder: state file, backups, call logs and doubles on PATH. */
export function createIisSandbox(opts: IisSandboxOptions = {}): IisSandbox {
  const dir = mkdtempSync(join(tmpdir(), 'iis-sandbox-'))
  const binDir = join(dir, 'bin')
  const configPath = join(dir, 'inetsrv', 'config', 'applicationHost.config')
  const backupsDir = join(dir, 'inetsrv', 'backup')
  const appcmdLog = join(dir, 'appcmd-calls.jsonl')
  const icaclsLog = join(dir, 'icacls-calls.jsonl')
  const failAtFile = join(dir, 'appcmd-fail-at')

  mkdirSync(binDir, { recursive: true })
  mkdirSync(dirname(configPath), { recursive: true })
  if (opts.seedConfig === undefined) copyFileSync(join(SUPPORT_DIR, 'applicationHost.seed.config'), configPath)
  else writeFileSync(configPath, opts.seedConfig)
  // Only the two doubles go on PATH, not every file of the support folder.
  for (const name of ['appcmd', 'icacls']) symlinkSync(join(SUPPORT_DIR, name), join(binDir, name))

  const env: Record<string, string> = {
    PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}`,
    APPCMD_DOUBLE_CONFIG: configPath,
    APPCMD_DOUBLE_BACKUPS: backupsDir,
    APPCMD_DOUBLE_LOG: appcmdLog,
    APPCMD_DOUBLE_FAIL_AT_FILE: failAtFile,
    ICACLS_DOUBLE_LOG: icaclsLog
  }

  const sandbox: IisSandbox = {
    dir,
    configPath,
    backupsDir,
    appcmdPath: join(SUPPORT_DIR, 'appcmd'),
    icaclsPath: join(SUPPORT_DIR, 'icacls'),
    env,
    calls: () => readJsonLines<AppcmdCall>(appcmdLog),
    mutatingCalls: () => readJsonLines<AppcmdCall>(appcmdLog).filter(c => c.mutating),
    changingCalls: () => withoutDroppedBackups(readJsonLines<AppcmdCall>(appcmdLog).filter(c => c.mutating)),
    aclGrants: () => readJsonLines<AclRecord>(icaclsLog),
    readConfig: () => readFileSync(configPath, 'utf8'),
    failAt(k) {
      if (k === undefined) rmSync(failAtFile, { force: true })
      else writeFileSync(failAtFile, ([] as number[]).concat(k).join(','))
    },
    resetCounters() {
      rmSync(appcmdLog, { force: true })
      rmSync(icaclsLog, { force: true })
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true })
  }
  if (opts.failAt !== undefined) sandbox.failAt(opts.failAt)
  return sandbox
}

/**
 * The product's runner for a sandbox: appcmd and icacls answered in process by the doubles' cores, every other
 * program run for real with the sandbox's variables (double-runner.ts).
 */
export function sandboxRunner(sandbox: Pick<IisSandbox, 'env'>, inner: ProcessRunner = execRunner): ProcessRunner {
  return doubleRunner(sandbox.env, inner)
}

/** As the bundle meets the doubles: every program, appcmd and icacls too, a real process with the sandbox's variables. */
export function sandboxProcessRunner(sandbox: Pick<IisSandbox, 'env'>, inner: ProcessRunner = execRunner): ProcessRunner {
  return {
    run: (file, args, options = {}) =>
      inner.run(file, args, { ...options, env: { ...(process.env as Record<string, string>), ...sandbox.env } })
  }
}

/** The names of the backups the appcmd double holds, sorted. */
export function backupsOf(sandbox: IisSandbox): string[] {
  return existsSync(sandbox.backupsDir) ? readdirSync(sandbox.backupsDir).sort() : []
}
