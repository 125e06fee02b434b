import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { diagnoseAll, evidenceFromChecks } from '../src/diagnose.js'
import { contentTypeFor, pickStaticFile, runChecks, staticUrl, verifyPlan } from '../src/verify/checks.js'
import { captureLog } from './support/iis-test-log.js'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { freePort, verifyConfig } from './support/verify-servers.js'

describe('verify against examples/hello served by waitress from a staged release, below the site root', () => {
  let server: ChildProcess
  let output = ''
  let appUrl = ''
  let release = ''

  beforeAll(async () => {
    // A staged release is a copy of the project; the database goes to a data folder, as on the server.
    release = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-release-'))
    fs.cpSync(EXAMPLE_APP, release, { recursive: true, filter: src => !/staticfiles|db\.sqlite3|__pycache__/.test(src) })
    const port = await freePort()
    // As hosting httpplatform runs it for app-path /dept/tools: IIS forwards the URL unchanged, waitress strips the prefix.
    appUrl = `http://127.0.0.1:${port}/dept/tools/`
    server = spawn(SYSTEM_PYTHON, ['-m', 'waitress', `--listen=127.0.0.1:${port}`, '--url-prefix=/dept/tools', 'hello.wsgi:application'], {
      cwd: release,
      env: {
        PATH: process.env.PATH ?? '',
        PYTHONPATH: release,
        DJANGO_DATA_DIR: release,
        DJANGO_DEBUG: '1',
        DJANGO_ALLOWED_HOSTS: '127.0.0.1,localhost'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    server.stdout?.on('data', (d: Buffer) => (output += d.toString()))
    server.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  })

  /**
   * Waits until waitress answers anything at all (these tests may run alone, before Django is up), so that what the
   * short verify budgets below measure is Django's answer, never how long a loaded machine takes to start it.
   */
  async function untilAnswering(): Promise<void> {
    const deadline = Date.now() + 60_000
    for (;;) {
      try {
        await fetch(appUrl, { signal: AbortSignal.timeout(10_000) })
        return
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`waitress never answered ${appUrl}: ${String(e)}\n${output}`)
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    }
  }

  afterAll(() => {
    server?.kill()
    if (release) fs.rmSync(release, { recursive: true, force: true })
  })

  it('passes the main and extra checks while the server is still starting', async () => {
    const plan = verifyPlan(
      verifyConfig(appUrl, {
        body: { text: 'Hello from Django' },
        extraUrls: [`${appUrl}health`],
        requestTimeoutMs: 5000,
        totalTimeoutMs: 30_000,
        intervalMs: 100
      })
    )
    const results = await runChecks(plan, captureLog())
    expect(results.map(r => [r.name, r.ok, r.status])).toEqual([
      ['main', true, 200],
      ['extra 1', true, 200]
    ])
  })

  it('fails the static check when nothing serves collected files, and the diagnosis says so', async () => {
    await untilAnswering()
    const file = pickStaticFile(['admin/js/core.js', 'admin/css/base.css'])
    expect(file).toBe('admin/css/base.css')
    const plan = verifyPlan(verifyConfig(appUrl, { requestTimeoutMs: 30_000, totalTimeoutMs: 600, intervalMs: 100 }), {
      staticFile: { url: staticUrl(appUrl, '/static', file ?? ''), expectedContentType: contentTypeFor(file ?? '') }
    })
    const results = await runChecks(plan, captureLog())
    const check = results.find(r => r.kind === 'static')
    expect(check?.ok).toBe(false)
    expect(check?.status).toBe(404)
    expect(check?.detail).toMatch(/^HTTP 404: the collected static file is not served/)
    expect(diagnoseAll(evidenceFromChecks(results)).map(h => h.id)).toEqual(['static-not-found'])
  })

  it('names the refused host when Django answers DisallowedHost', async () => {
    await untilAnswering()
    const results = await runChecks(
      // One attempt (its request has the whole 30 s): a 400 is polled until the deadline, and a last attempt cut
      // short by it would report a timeout instead of Django's answer.
      verifyPlan(verifyConfig(appUrl, { hostHeader: 'app.example.org', requestTimeoutMs: 30_000, totalTimeoutMs: 60, intervalMs: 100 })),
      captureLog()
    )
    expect(results[0]?.status).toBe(400)
    expect(results[0]?.bodyStart).toContain('DisallowedHost')
    // From the response alone, the host comes from verify-host.
    const fromResponse = diagnoseAll(evidenceFromChecks(results, { hostHeader: 'app.example.org' }))
    expect(fromResponse.map(h => h.id)).toEqual(['disallowed-host'])
    expect(fromResponse[0]?.hint).toContain("'app.example.org'")
    // From the server's own log (what HttpPlatformHandler's stdout log holds), the host is read from the message.
    const fromLog = diagnoseAll(evidenceFromChecks(results, { stdoutLogTail: output }))
    expect(output).toContain("Invalid HTTP_HOST header: 'app.example.org'")
    expect(fromLog.find(h => h.id === 'disallowed-host')?.hint).toContain("Django refuses the host name 'app.example.org'")
  })
})
