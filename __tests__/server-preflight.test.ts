/**
 * The HttpPlatformHandler preflight requests the URL IIS forwards: HttpPlatformHandler passes the client's path on
 * unchanged (docs/windows-facts.md, hp-url-unchanged), so an app at /dept/tools gets /dept/tools/... and its server must strip
 * the prefix. Real waitress (Debian's python3-waitress) serving examples/hello.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { forwardedPath, serverPreflight, type ServerPreflightOptions } from '../src/python/server-preflight.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'

let release: string

beforeAll(() => {
  release = fs.mkdtempSync(path.join(os.tmpdir(), 'server-preflight-'))
  fs.cpSync(EXAMPLE_APP, release, { recursive: true, filter: src => !/staticfiles|db\.sqlite3|__pycache__/.test(src) })
})
afterAll(() => fs.rmSync(release, { recursive: true, force: true }))

function options(args: string, appPath: string): ServerPreflightOptions {
  return {
    processPath: SYSTEM_PYTHON,
    arguments: args,
    cwd: release,
    env: [
      { name: 'PYTHONPATH', value: release },
      { name: 'DJANGO_SETTINGS_MODULE', value: 'hello.settings' },
      { name: 'DJANGO_DATA_DIR', value: release },
      { name: 'DJANGO_ALLOWED_HOSTS', value: 'localhost' }
    ],
    appPath,
    path: '/health',
    host: 'localhost',
    startupTimeoutMs: 30_000
  }
}

describe('serverPreflight below the site root', () => {
  it('forwards the app path with the preflight path, and nothing for a site root app', () => {
    expect(forwardedPath('/dept/tools', '/health')).toBe('/dept/tools/health')
    expect(forwardedPath('/', '/health')).toBe('/health')
  })

  it('gets /dept/tools/health from waitress started with --url-prefix=/dept/tools', { timeout: 40_000 }, async () => {
    const result = await serverPreflight(
      options('-m waitress --listen=127.0.0.1:%HTTP_PLATFORM_PORT% --url-prefix=/dept/tools hello.wsgi:application', '/dept/tools')
    )
    expect(result.status).toBe(200)
    expect(result.requestPath).toBe('/dept/tools/health')
  })

  it('fails with 404 and names --url-prefix when the server does not strip the app path', { timeout: 40_000 }, async () => {
    const error = await serverPreflight(
      options('-m waitress --listen=127.0.0.1:%HTTP_PLATFORM_PORT% hello.wsgi:application', '/dept/tools')
    ).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(PhaseError)
    expect((error as PhaseError).message).toContain('answered 404 for /dept/tools/health')
    expect((error as PhaseError).hint).toBe(
      'IIS forwards /dept/tools/health unchanged: the server must serve the app below /dept/tools (waitress: --url-prefix=/dept/tools); else check preflight-path'
    )
  })
})
