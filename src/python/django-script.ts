import { assetPath } from '../assets.js'
import { PhaseError } from '../errors.js'
import { Redactor } from '../log.js'
import type { ProcessResult, ProcessRunner } from '../process.js'
import { appProcessEnv, type AppVar } from './environment.js'
import type { Failure } from './django-failure.js'
import { outputTail } from './output.js'

/** What every Django step needs: the venv, the release folder, and the app's environment as IIS registers it. */
export interface DjangoOptions {
  venvPython: string
  /** The release folder (code copied from app-dir): cwd and PYTHONPATH of the app. */
  projectDir: string
  settingsModule: string
  /** Variables as the plan registers them; values marked secret are passed only in the child's environment. */
  env: ReadonlyArray<AppVar & { secret?: boolean }>
}

export type PartName = 'settings' | 'data' | 'collectstatic' | 'check' | 'preflight' | 'migrations'

/** What src/python/scripts/release_checks.py answers for one part. */
export interface PartAnswer extends Failure {
  part: PartName
  ok: boolean
  stdout?: string
  stderr?: string
}

/** The parts to run, in the order the script runs them; it stops at the first that fails. */
export interface ScriptSpec {
  settings?: true
  /** WSGI_HANDLER when WSGI_APPLICATION is unset; asks the script to set WSGI_HANDLER after reading the settings. */
  handlerFallback?: string
  /** Refuse settings that keep files inside the release, unless behind a link into sharedDir (data-paths.ts). */
  data?: { releaseDir: string; sharedDir: string }
  /** shareFrom: an earlier release's static folder whose unchanged files are shared in (static_reuse.py). */
  collectstatic?: { staticRoot: string; shareFrom?: string }
  check?: true
  preflight?: Record<string, unknown>
  /** The unapplied migrations (src/python/scripts/diis_migrations.py), listed in the same process. */
  migrations?: true
}

export interface ScriptRun {
  result: ProcessResult
  parts: Partial<Record<PartName, PartAnswer>>
}

const MARKER = '@@django-iis-deploy:result@@'

export function secretsOf(opts: Pick<DjangoOptions, 'env'>): Redactor {
  const redactor = new Redactor()
  for (const v of opts.env) if (v.secret) redactor.add(v.value)
  return redactor
}

/** The app's environment for manage.py-like steps: as under IIS, with settings and PYTHONPATH pinned to the release. */
export function commandEnv(opts: DjangoOptions): Record<string, string> {
  return appProcessEnv([
    ...opts.env,
    { name: 'DJANGO_SETTINGS_MODULE', value: opts.settingsModule },
    { name: 'PYTHONPATH', value: opts.projectDir }
  ])
}

/** The preflight's environment is exactly the registered one; settings and PYTHONPATH are filled in only when absent. */
export function iisEnv(opts: DjangoOptions): Record<string, string> {
  const has = (name: string): boolean => opts.env.some(v => v.name.toUpperCase() === name)
  return appProcessEnv([
    ...(has('DJANGO_SETTINGS_MODULE') ? [] : [{ name: 'DJANGO_SETTINGS_MODULE', value: opts.settingsModule }]),
    ...(has('PYTHONPATH') ? [] : [{ name: 'PYTHONPATH', value: opts.projectDir }]),
    ...opts.env
  ])
}

/** One run of release_checks.py; the spec travels on stdin, so nothing of the app's environment is in argv. */
export async function runScript(
  runner: ProcessRunner,
  opts: DjangoOptions,
  spec: ScriptSpec,
  env: Record<string, string>
): Promise<ScriptRun> {
  const result = await runner.run(opts.venvPython, [assetPath('python', 'release_checks.py')], {
    cwd: opts.projectDir,
    env,
    input: JSON.stringify(spec)
  })
  const parts: ScriptRun['parts'] = {}
  // The last marker line of each part counts: the app may print, but not after the script's own answer.
  for (const line of result.stdout.split(/\r?\n/)) {
    if (!line.startsWith(MARKER)) continue
    const answer = JSON.parse(line.slice(MARKER.length)) as PartAnswer
    parts[answer.part] = answer
  }
  return { result, parts }
}

/** The part's answer, or the failure of a run that ended before giving it (a crash, an exit from the app). */
export function partOf<T extends PartAnswer>(run: ScriptRun, part: PartName, phase: string, what: string, redactor: Redactor): T {
  const answer = run.parts[part]
  if (answer === undefined) {
    const { result } = run
    throw new PhaseError(phase, redactor.redact(`${what} ended without an answer (exit ${result.exitCode}):\n${outputTail(result)}`))
  }
  return answer as T
}
