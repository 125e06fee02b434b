import { spawn } from 'node:child_process'
import { splitArgs } from '../config.js'
import { PhaseError } from '../errors.js'
import { freeLoopbackPort } from '../loopback-port.js'
import { httpGet } from '../verify/http.js'
import { appProcessEnv, type AppVar } from './environment.js'

export interface ServerPreflightOptions {
  /** The venv's python: HttpPlatformHandler's processPath. */
  processPath: string
  /** The rendered `arguments`, with %HTTP_PLATFORM_PORT% still in it. */
  arguments: string
  /** The release folder. */
  cwd: string
  /** Every variable the app gets under IIS, secret ones included (they reach the child only). */
  env: readonly AppVar[]
  /** IIS virtual path of the app ('/' for a site's root app): HttpPlatformHandler forwards it unchanged. */
  appPath: string
  /** Path below the app, e.g. '/' or '/health'. */
  path: string
  host: string
  /** Like HttpPlatformHandler's startupTimeLimit. */
  startupTimeoutMs: number
}

export interface ServerPreflightResult {
  port: number
  status: number
  argv: string[]
  /** The path requested: the app path and the preflight path, as IIS forwards them. */
  requestPath: string
}

/** The URL path HttpPlatformHandler sends to the server for `path` below the app: the client's, unchanged. */
export function forwardedPath(appPath: string, path: string): string {
  return appPath === '/' ? path : `${appPath}${path}`
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Starts the exact command line HttpPlatformHandler will start (processPath + arguments, the port in
 * HTTP_PLATFORM_PORT and in place of %HTTP_PLATFORM_PORT%), gets `path` over real HTTP, and stops it.
 */
export async function serverPreflight(opts: ServerPreflightOptions): Promise<ServerPreflightResult> {
  const port = await freeLoopbackPort()
  const argv = splitArgs(opts.arguments.replace(/%HTTP_PLATFORM_PORT%/gi, String(port)))
  const env = appProcessEnv([...opts.env, { name: 'HTTP_PLATFORM_PORT', value: String(port) }])
  const child = spawn(opts.processPath, argv, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8192)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let exited: number | null | undefined
  let spawnError: Error | undefined
  child.on('exit', code => (exited = code))
  child.on('error', e => (spawnError = e))
  const tail = (): string => output.trim().split(/\r?\n/).slice(-15).join('\n')
  const shown = `${opts.processPath} ${argv.join(' ')}`
  const requestPath = forwardedPath(opts.appPath, opts.path)
  try {
    const deadline = performance.now() + opts.startupTimeoutMs
    for (;;) {
      if (spawnError) throw new PhaseError('preflight', `could not start ${shown}: ${spawnError.message}`, 'check httpplatform-command')
      if (exited !== undefined) {
        throw new PhaseError(
          'preflight',
          `the HttpPlatformHandler command exited (code ${exited}) before answering: ${shown}\n${tail()}`,
          'check httpplatform-command and that its server is installed in the venv (httpplatform-package)'
        )
      }
      const response = await httpGet({ url: `http://127.0.0.1:${port}${requestPath}`, hostHeader: opts.host, timeoutMs: 5000 })
      if (response.status !== undefined) {
        if (response.status >= 400) {
          // Below the site root a 404 is most often a server that does not strip the app path IIS forwards.
          const hint =
            response.status === 404 && opts.appPath !== '/'
              ? `IIS forwards ${requestPath} unchanged: the server must serve the app below ${opts.appPath} (waitress: --url-prefix=${opts.appPath}); else check preflight-path`
              : undefined
          throw new PhaseError(
            'preflight',
            `the HttpPlatformHandler command answered ${response.status} for ${requestPath}: ${shown}\n${tail()}`,
            hint
          )
        }
        return { port, status: response.status, argv, requestPath }
      }
      if (performance.now() > deadline) {
        throw new PhaseError(
          'preflight',
          `the HttpPlatformHandler command did not answer on port ${port} within ${opts.startupTimeoutMs / 1000} s: ${shown}\n${tail()}`,
          'the server must listen on %HTTP_PLATFORM_PORT%'
        )
      }
      await sleep(100)
    }
  } finally {
    if (exited === undefined) {
      child.kill()
      await new Promise(resolve => (exited !== undefined ? resolve(undefined) : child.once('exit', resolve)))
    }
  }
}
