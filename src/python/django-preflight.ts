import type { Redactor } from '../log.js'
import type { ProcessRunner } from '../process.js'
import { failure, likelyCause, type PyError } from './django-failure.js'
import { iisEnv, partOf, runScript, secretsOf, type DjangoOptions, type PartAnswer, type ScriptRun } from './django-script.js'

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
  /** The collected file whose URL static.fileUrl is, when the script picked it. */
  staticFile?: string
}

interface PreflightAnswer extends PartAnswer {
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
  /** The collected file whose URL `static` reports, when the script picked it. */
  staticFile?: string
}

function splitHost(req: PreflightRequest): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(req.host)
  const host = m && !req.host.endsWith(']') ? (m[1] ?? req.host) : req.host
  const port = req.port ?? (m ? Number(m[2]) : req.scheme === 'https' ? 443 : 80)
  return { host, port }
}

/** What the script needs to make the request, and the URL it stands for in messages. */
export function requestSpec(req: PreflightRequest): { spec: Record<string, unknown>; url: string; host: string } {
  const scheme = req.scheme ?? 'http'
  const { host, port } = splitHost(req)
  const appPath = req.appPath
  const spec = { path: req.path, host, port, scheme, appPath, ...(req.staticFile ? { staticFile: req.staticFile } : {}) }
  const url = `${scheme}://${req.host}${appPath === '/' ? '' : appPath}${req.path}`
  return { spec, url, host }
}

/** The preflight part: the response, or the failure naming the likeliest cause. Fails unless the status is 2xx or 3xx. */
export function preflightFrom(
  run: ScriptRun,
  opts: Pick<DjangoOptions, 'settingsModule'> & Pick<PreflightRequest, 'appPath'>,
  request: { url: string; host: string },
  redactor: Redactor
): PreflightResult {
  const { url, host } = request
  const appPath = opts.appPath
  const answer = partOf<PreflightAnswer>(run, 'preflight', 'preflight', `the preflight request to ${url}`, redactor)
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
    static: renderedStatic(answer.static),
    ...(answer.staticFile ? { staticFile: answer.staticFile } : {})
  }
}

/**
 * One GET through the app's WSGI handler, in the venv, with the environment the FastCGI registration gives it and
 * the request shaped as IIS and wfastcgi shape it (see src/python/scripts/preflight.py).
 */
export async function preflightRequest(runner: ProcessRunner, opts: DjangoOptions & PreflightRequest): Promise<PreflightResult> {
  const { spec, url, host } = requestSpec(opts)
  const run = await runScript(runner, opts, { preflight: spec }, iisEnv(opts))
  return preflightFrom(run, opts, { url, host }, secretsOf(opts))
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
