/**
 * Deploys of __tests__/fixtures/migrations-app, in process (run() of src/main.ts) over the appcmd and icacls
 * doubles, verified through the IIS stand-in that serves what applicationHost.config says: a real venv, real
 * Django and a real database (SQLite or the private PostgreSQL of support/postgres.ts).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { run, type RunDeps } from '../../src/main.js'
import type { ProcessRunner } from '../../src/process.js'
import { countingRunner, type RecordedCall } from './counting-runner.js'
import { createIisSandbox, sandboxRunner, type IisSandbox } from './iis-sandbox.js'
import { captureLog, type CapturedLog } from './iis-test-log.js'
import { startIisStandin, type IisStandin } from './iis-standin.mjs'
import { tempDir } from './temp-dir.js'
import { SYSTEM_PYTHON } from './wheelhouse.js'

export const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'migrations-app')
const OVERLAYS = path.join(import.meta.dirname, '..', 'fixtures', 'migrations-overlays')
export const APP = '/notes'
export const NOTES_SECRET = 'notes-secret-Vq93-do-not-print'

export interface Deployed {
  failures: string[]
  outputs: Record<string, string>
  log: CapturedLog
  summary: string
  /** Every process the run started, in the order it started them. */
  calls: RecordedCall[]
  plan?: {
    migrations?: { migrate: boolean; pending: string[]; reachable: boolean; note?: string; releaseCommands: string[] }
    operations?: { phase: string; argv: string[]; why: string }[]
  }
}

export interface TestServer {
  work: string
  sandbox: IisSandbox
  standin: IisStandin
  deployRoot: string
  /** The project as of a version: the fixture with overlays (fixtures/migrations-overlays/<name>) on top. */
  project(name: string, overlays?: string[], files?: Record<string, string>): string
  /** `wrap` stands between the run and the sandbox's runner, e.g. to hold a call back. */
  deploy(
    project: string,
    releaseId: string,
    inputs?: Record<string, string>,
    wrap?: (inner: ProcessRunner) => ProcessRunner
  ): Promise<Deployed>
  /** The release IIS serves, by its folder name. */
  live(): string
  close(): Promise<void>
}

export async function createTestServer(wheelhouse: string, dbEnv: string): Promise<TestServer> {
  const work = tempDir('migrate-deploy')
  const sandbox = createIisSandbox()
  const standin = await startIisStandin({ configPath: sandbox.configPath })
  const deployRoot = path.join(work, 'deploy-root')
  return {
    work,
    sandbox,
    standin,
    deployRoot,
    project: (name, overlays = [], files = {}) => {
      const dir = path.join(work, 'src', name)
      fs.cpSync(FIXTURE, dir, { recursive: true })
      for (const overlay of overlays) fs.cpSync(path.join(OVERLAYS, overlay), dir, { recursive: true })
      for (const [rel, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, rel), text)
      return dir
    },
    deploy: async (project, releaseId, extra = {}, wrap = inner => inner) => {
      const inputs: Record<string, string> = {
        mode: 'deploy',
        'app-dir': project,
        'deploy-root': deployRoot,
        'app-path': APP,
        'release-id': releaseId,
        python: SYSTEM_PYTHON,
        'venv-system-site-packages': 'true',
        'pip-args': `--no-index --find-links ${wheelhouse}`,
        env: dbEnv,
        'secret-env': `NOTES_SECRET_KEY=${NOTES_SECRET}`,
        appcmd: sandbox.appcmdPath,
        icacls: sandbox.icaclsPath,
        'verify-url': `${standin.url}${APP}/`,
        'verify-timeout': '20',
        'preflight-path': '/health',
        'output-dir': path.join(work, `out-${releaseId}`),
        'lock-dir': path.join(work, 'server-lock'),
        ...extra
      }
      const failures: string[] = []
      const outputs: Record<string, string> = {}
      let summary = ''
      const log = captureLog()
      const runner = countingRunner(wrap(sandboxRunner(sandbox)))
      const deps: RunDeps = {
        inputs: name => inputs[name] ?? '',
        env: { ...sandbox.env, PATH: `${sandbox.env.PATH ?? ''}${path.delimiter}${process.env.PATH ?? ''}` },
        cwd: work,
        runner,
        log,
        setOutput: (name, value) => {
          outputs[name] = String(value)
        },
        summary: {
          addRaw: (text: string) => {
            summary += text
            return undefined
          },
          write: async () => undefined
        },
        setFailed: message => failures.push(message)
      }
      await run(deps)
      const planFile = path.join(inputs['output-dir'] ?? '', 'plan.json')
      const plan = fs.existsSync(planFile) ? (JSON.parse(fs.readFileSync(planFile, 'utf8')) as Deployed['plan']) : undefined
      return { failures, outputs, log, summary, calls: runner.calls, ...(plan ? { plan } : {}) }
    },
    live: () =>
      /<application path="\/notes"[^>]*>\s*<virtualDirectory path="\/" physicalPath="[^"]*[\\/]([^"\\/]+)"/.exec(
        sandbox.readConfig()
      )?.[1] ?? '',
    close: async () => {
      await standin.close()
      sandbox.cleanup()
    }
  }
}

/** Rows of a query on an SQLite file, one line each, read with Python's sqlite3 (the library Django uses). */
export function sqliteQuery(file: string, query: string): string[] {
  if (!fs.existsSync(file)) return []
  const script = [
    'import sqlite3, sys',
    'db = sqlite3.connect(sys.argv[1])',
    'rows = db.execute(sys.argv[2]).fetchall()',
    'db.commit()',
    "print('\\n'.join('|'.join(map(str, r)) for r in rows))"
  ].join('\n')
  return execFileSync(SYSTEM_PYTHON, ['-c', script, file, query], { encoding: 'utf8' }).split('\n').filter(Boolean)
}

/** Tables of an SQLite database; [] when there is no file. */
export function sqliteTables(file: string): string[] {
  return sqliteQuery(file, "select name from sqlite_master where type='table' order by name")
}
