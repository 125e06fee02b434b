import fs from 'node:fs/promises'
import path from 'node:path'
import { assetPath } from '../assets.js'
import { PhaseError } from '../errors.js'
import { Redactor, type Log } from '../log.js'
import type { ProcessResult, ProcessRunner } from '../process.js'
import { appProcessEnv, type AppVar } from './environment.js'
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

export interface DjangoSettings {
  WSGI_APPLICATION: string | null
  STATIC_URL: string | null
  /** Replaces SCRIPT_NAME as Django's script prefix when set (docs/static-url.md). */
  FORCE_SCRIPT_NAME: string | null
  STATIC_ROOT: string | null
  INSTALLED_APPS: string[]
  MIDDLEWARE: string[]
  AUTHENTICATION_BACKENDS: string[]
  ALLOWED_HOSTS: string[]
  DEBUG: boolean
}

/** The name the stage flow uses. */
export type SettingsFacts = DjangoSettings

export interface CheckWarning {
  id: string
  message: string
  hint: string
}

export interface PreflightRequest {
  /** Path below the app, e.g. '/' or '/health?full=1'. */
  path: string
  /** Host of the verify URL; a ':port' suffix is taken as the port. */
  host: string
  /**
   * IIS virtual path of the app, e.g. '/app', or '/' for a site's root app: the request's URL path starts with it.
   * How much of it becomes SCRIPT_NAME is wfastcgi's rule, applied by the script (the SCRIPT_NAME setting in env).
   */
  appPath: string
  scheme?: 'http' | 'https'
  port?: number
  /** A collected file (relative to STATIC_ROOT) whose URL, as the app renders it, the result reports. */
  staticFile?: string
}

/** STATIC_URL and a collected file's URL as the app rendered them right after the preflight request. */
export interface RenderedStatic {
  staticUrl?: string
  /** static(staticFile): what the pages link, and so what verify fetches. */
  fileUrl?: string
  /** Why they could not be rendered (e.g. the file is missing from a manifest storage). */
  error?: string
}

export interface PreflightResult {
  status: number
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>
  /** The first 2 KiB of the body, decoded as UTF-8. */
  body: string
  /** WSGI_HANDLER as wfastcgi resolved it. */
  handler: string
  /** SCRIPT_NAME and PATH_INFO as the app saw them. */
  scriptName: string
  pathInfo: string
  static: RenderedStatic
}

/** One exception of a Python traceback chain, outermost first. */
interface PyError {
  type: string
  message: string
  /** ImportError.name: the module that could not be imported. */
  name: string | null
}

interface Failure {
  errors?: PyError[]
  traceback?: string
}

const MARKER = '@@django-iis-deploy:result@@'

function secretsOf(opts: DjangoOptions): Redactor {
  const redactor = new Redactor()
  for (const v of opts.env) if (v.secret) redactor.add(v.value)
  return redactor
}

/** The app's environment for manage.py-like steps: as under IIS, with settings and PYTHONPATH pinned to the release. */
function commandEnv(opts: DjangoOptions): Record<string, string> {
  return appProcessEnv([
    ...opts.env,
    { name: 'DJANGO_SETTINGS_MODULE', value: opts.settingsModule },
    { name: 'PYTHONPATH', value: opts.projectDir }
  ])
}

/** The preflight's environment is exactly the registered one; settings and PYTHONPATH are filled in only when absent. */
function iisEnv(opts: DjangoOptions): Record<string, string> {
  const has = (name: string): boolean => opts.env.some(v => v.name.toUpperCase() === name)
  return appProcessEnv([
    ...(has('DJANGO_SETTINGS_MODULE') ? [] : [{ name: 'DJANGO_SETTINGS_MODULE', value: opts.settingsModule }]),
    ...(has('PYTHONPATH') ? [] : [{ name: 'PYTHONPATH', value: opts.projectDir }]),
    ...opts.env
  ])
}

function lastLines(text: string, count = 12): string {
  return text.trimEnd().split(/\r?\n/).slice(-count).join('\n')
}

function parseResult<T>(result: ProcessResult, phase: string, what: string, redactor: Redactor): T {
  const line = result.stdout
    .split(/\r?\n/)
    .reverse()
    .find(l => l.startsWith(MARKER))
  if (line === undefined) {
    throw new PhaseError(phase, redactor.redact(`${what} ended without an answer (exit ${result.exitCode}):\n${outputTail(result)}`))
  }
  return JSON.parse(line.slice(MARKER.length)) as T
}

/**
 * The likeliest cause among the exception chains, as the fix to make. Chains come innermost cause last; the first
 * import failure is the real one (later ones are consequences).
 */
export function likelyCause(chains: PyError[][], ctx: { settingsModule: string; host?: string }): string | undefined {
  const all = chains.flat()
  const missing = all.find(e => e.type === 'ModuleNotFoundError' && e.name)
  if (missing?.name && (ctx.settingsModule === missing.name || ctx.settingsModule.startsWith(`${missing.name}.`))) {
    return (
      `wrong settings module: DJANGO_SETTINGS_MODULE '${ctx.settingsModule}' cannot be imported (No module named '${missing.name}'); ` +
      'set settings-module to the dotted name of your settings (e.g. mysite.settings), relative to app-dir'
    )
  }
  if (missing?.name) {
    return `import error: the app imports '${missing.name}', which is not installed in the venv; add it to requirements`
  }
  const importError = all.find(e => e.type === 'ImportError' || e.type === 'ModuleNotFoundError')
  if (importError) return `import error: ${importError.message}; add the missing package to requirements or fix the import`
  if (all.some(e => e.type === 'DisallowedHost')) {
    return `DisallowedHost: add '${ctx.host ?? 'the host of verify-url'}' to ALLOWED_HOSTS in the settings (or the variable they read it from)`
  }
  const improper = all.find(e => e.type === 'ImproperlyConfigured')
  if (improper) return `the settings are incomplete: ${improper.message}`
  return undefined
}

function failure(phase: string, summary: string, failed: Failure, cause: string | undefined, redactor: Redactor): PhaseError {
  const tail = failed.traceback ? `\n${lastLines(failed.traceback)}` : ''
  const message = `${summary}${cause ? `: ${cause}` : ''}${tail}`
  return new PhaseError(phase, redactor.redact(message), cause ? redactor.redact(cause) : undefined)
}

/** The settings the deploy relies on, read by importing the settings module in the venv. */
export async function inspectSettings(runner: ProcessRunner, opts: DjangoOptions): Promise<DjangoSettings> {
  const redactor = secretsOf(opts)
  const result = await runner.run(opts.venvPython, [assetPath('python', 'inspect_settings.py')], {
    cwd: opts.projectDir,
    env: commandEnv(opts)
  })
  const answer = parseResult<{ ok: boolean; settings?: DjangoSettings } & Failure>(result, 'stage', 'reading the Django settings', redactor)
  if (!answer.ok || !answer.settings) {
    const cause = likelyCause([answer.errors ?? []], { settingsModule: opts.settingsModule })
    throw failure('stage', `Django settings '${opts.settingsModule}' could not be loaded`, answer, cause, redactor)
  }
  const s = answer.settings
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [])
  return {
    WSGI_APPLICATION: s.WSGI_APPLICATION ?? null,
    STATIC_URL: s.STATIC_URL ?? null,
    FORCE_SCRIPT_NAME: s.FORCE_SCRIPT_NAME ?? null,
    STATIC_ROOT: s.STATIC_ROOT ?? null,
    INSTALLED_APPS: list(s.INSTALLED_APPS),
    MIDDLEWARE: list(s.MIDDLEWARE),
    AUTHENTICATION_BACKENDS: list(s.AUTHENTICATION_BACKENDS),
    ALLOWED_HOSTS: list(s.ALLOWED_HOSTS),
    DEBUG: s.DEBUG === true
  }
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true })
  return entries
    .filter(e => e.isFile())
    .map(e => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort()
}

/** collectstatic --noinput into the release's static folder; returns the collected files, relative, with / separators. */
export async function collectStatic(
  runner: ProcessRunner,
  log: Log,
  opts: DjangoOptions & { staticRoot: string }
): Promise<{ files: string[] }> {
  const redactor = secretsOf(opts)
  log.info(`collecting static files into ${opts.staticRoot}`)
  const result = await runner.run(opts.venvPython, [assetPath('python', 'collectstatic.py'), opts.staticRoot], {
    cwd: opts.projectDir,
    env: commandEnv(opts)
  })
  if (result.exitCode !== 0) {
    throw new PhaseError(
      'stage',
      redactor.redact(`collectstatic failed (exit ${result.exitCode}):\n${outputTail(result)}`),
      "Is 'django.contrib.staticfiles' in INSTALLED_APPS, and does every STATICFILES_DIRS folder exist in the repository?"
    )
  }
  log.debug(redactor.redact(result.stdout))
  let files: string[] = []
  try {
    files = await listFiles(opts.staticRoot)
  } catch {
    // No static files at all: collectstatic does not create the folder then.
  }
  log.info(`${files.length} static files collected`)
  return { files }
}

/** The checks of `manage.py check --deploy`: errors fail the preflight, warnings are returned for annotations. */
export async function checkDeploy(runner: ProcessRunner, opts: DjangoOptions): Promise<{ warnings: CheckWarning[] }> {
  const redactor = secretsOf(opts)
  const result = await runner.run(opts.venvPython, [assetPath('python', 'check_deploy.py')], {
    cwd: opts.projectDir,
    env: commandEnv(opts)
  })
  type Message = CheckWarning & { level: number; serious: boolean; text: string }
  const answer = parseResult<{ ok: boolean; messages?: Message[] } & Failure>(result, 'preflight', 'manage.py check --deploy', redactor)
  if (!answer.ok || !answer.messages) {
    const cause = likelyCause([answer.errors ?? []], { settingsModule: opts.settingsModule })
    throw failure('preflight', 'manage.py check --deploy could not run', answer, cause, redactor)
  }
  const serious = answer.messages.filter(m => m.serious)
  if (serious.length > 0) {
    throw new PhaseError(
      'preflight',
      redactor.redact(`manage.py check --deploy found ${serious.length} error(s):\n${serious.map(m => m.text).join('\n')}`),
      'Fix the errors above in the settings; the release was not deployed.'
    )
  }
  return {
    warnings: answer.messages.map(m => ({ id: m.id, message: redactor.redact(m.message), hint: redactor.redact(m.hint) }))
  }
}

interface PreflightAnswer extends Failure {
  ok: boolean
  stage?: 'handler' | 'request' | 'preflight'
  handler?: string
  importErrors?: Array<{ errors: PyError[]; traceback: string }>
  logs?: Array<{ logger: string; level: string; message: string; errors?: PyError[]; traceback?: string }>
  status?: number
  headers?: Array<[string, string]>
  body?: string
  scriptName?: string
  pathInfo?: string
  static?: { staticUrl?: string; fileUrl?: string; errors?: PyError[] }
  stdout?: string
  stderr?: string
}

function splitHost(req: PreflightRequest): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(req.host)
  const host = m && !req.host.endsWith(']') ? (m[1] ?? req.host) : req.host
  const port = req.port ?? (m ? Number(m[2]) : req.scheme === 'https' ? 443 : 80)
  return { host, port }
}

/**
 * One GET through the app's WSGI handler, in the venv, with the environment the FastCGI registration gives it and
 * the request shaped as IIS and wfastcgi shape it (see src/python/scripts/preflight.py). Fails unless the status is 2xx or 3xx.
 */
export async function preflightRequest(runner: ProcessRunner, opts: DjangoOptions & PreflightRequest): Promise<PreflightResult> {
  const redactor = secretsOf(opts)
  const scheme = opts.scheme ?? 'http'
  const { host, port } = splitHost(opts)
  const appPath = opts.appPath
  const spec = { path: opts.path, host, port, scheme, appPath, ...(opts.staticFile ? { staticFile: opts.staticFile } : {}) }
  const url = `${scheme}://${opts.host}${appPath === '/' ? '' : appPath}${opts.path}`
  const result = await runner.run(opts.venvPython, [assetPath('python', 'preflight.py')], {
    cwd: opts.projectDir,
    env: iisEnv(opts),
    input: JSON.stringify(spec)
  })
  const answer = parseResult<PreflightAnswer>(result, 'preflight', `the preflight request to ${url}`, redactor)
  const ctx = { settingsModule: opts.settingsModule, host }
  const imports = answer.importErrors ?? []

  if (!answer.ok) {
    const chains = [...imports.map(i => i.errors), answer.errors ?? []]
    const cause = likelyCause(chains, ctx)
    // The first swallowed import error holds the real traceback; the final one only says the handler is missing.
    const shown = imports[0] ?? answer
    const summary =
      answer.stage === 'handler'
        ? `preflight: WSGI_HANDLER '${answer.handler ?? ''}' could not be loaded (IIS would answer "Error occurred while reading WSGI handler")`
        : `preflight request to ${url} raised an exception`
    throw failure(
      'preflight',
      summary,
      shown,
      cause ?? (answer.stage === 'handler' ? 'check WSGI_HANDLER, PYTHONPATH and the settings module' : undefined),
      redactor
    )
  }

  const status = answer.status ?? 0
  if (status < 200 || status >= 400) {
    const logs = answer.logs ?? []
    const disallowed = logs.some(l => l.logger === 'django.security.DisallowedHost')
    const logged = logs.find(l => l.errors !== undefined)
    let cause = disallowed
      ? likelyCause([[{ type: 'DisallowedHost', message: '', name: null }]], ctx)
      : logged
        ? likelyCause([logged.errors ?? []], ctx)
        : undefined
    if (!cause && status === 404) {
      const pathInfo = answer.pathInfo ?? ''
      // wfastcgi splits off the app path only when a SCRIPT_NAME setting names it (src/python/scripts/preflight.py).
      const unsplit = appPath !== '/' && !answer.scriptName && pathInfo.toLowerCase().startsWith(appPath.toLowerCase())
      cause = unsplit
        ? `the app path stayed in PATH_INFO '${pathInfo}' (SCRIPT_NAME ''): wfastcgi strips it only when the SCRIPT_NAME setting equals ${appPath}`
        : `no URL pattern matches PATH_INFO '${pathInfo}' (SCRIPT_NAME '${answer.scriptName ?? ''}'); check preflight-path and app-path`
    }
    const detail = logged?.traceback ?? logs.map(l => l.message).join('\n')
    throw failure(
      'preflight',
      `preflight request to ${url} answered ${status}`,
      { traceback: detail || (answer.body ?? '') },
      cause,
      redactor
    )
  }

  const headers: Record<string, string> = {}
  for (const [name, value] of answer.headers ?? []) {
    const key = name.toLowerCase()
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`
  }
  return {
    status,
    headers,
    body: redactor.redact(answer.body ?? ''),
    handler: answer.handler ?? '',
    scriptName: answer.scriptName ?? '',
    pathInfo: answer.pathInfo ?? '',
    static: renderedStatic(answer.static)
  }
}

function renderedStatic(raw: PreflightAnswer['static']): RenderedStatic {
  if (!raw) return {}
  const error = raw.errors?.map(e => `${e.type}: ${e.message}`).join('; ')
  return {
    ...(typeof raw.staticUrl === 'string' ? { staticUrl: raw.staticUrl } : {}),
    ...(typeof raw.fileUrl === 'string' ? { fileUrl: raw.fileUrl } : {}),
    ...(error ? { error } : {})
  }
}
