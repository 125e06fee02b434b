/**
 * The bundled action deploys examples/hello with hosting httpplatform two levels below the site root, and verify goes
 * through the IIS stand-in, which starts the <httpPlatform> process and proxies the URL unchanged, as
 * HttpPlatformHandler does (docs/windows-facts.md, hp-url-unchanged). Real Python, Django, pip and waitress.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createIisSandbox, type IisSandbox } from './support/iis-sandbox.js'
import { DIST_INDEX, EXAMPLE_APP, runAction } from './support/run-action.js'
import { startIisStandin, type IisStandin } from './support/iis-standin.mjs'
import { buildWheelhouse, SYSTEM_PYTHON } from './support/wheelhouse.js'

const APP = '/dept/tools'
const SECRET = `s3cr3t-${crypto.randomBytes(12).toString('hex')}`
let work: string
let sandbox: IisSandbox
let standin: IisStandin
let deployRoot: string

async function get(urlPath: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${standin.url}${urlPath}`)
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() }
}

beforeAll(async () => {
  expect(fs.existsSync(DIST_INDEX), 'dist/index.js is missing: run npm run bundle').toBe(true)
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-hp-e2e-'))
  deployRoot = path.join(work, 'deploy-root')
  sandbox = createIisSandbox()
  standin = await startIisStandin({ configPath: sandbox.configPath })
  const wheelhouse = await buildWheelhouse(path.join(work, 'wheelhouse'))
  const run = await runAction(
    {
      mode: 'deploy',
      hosting: 'httpplatform',
      'app-dir': EXAMPLE_APP,
      'deploy-root': deployRoot,
      'app-path': APP,
      'release-id': 'h1',
      python: SYSTEM_PYTHON,
      'venv-system-site-packages': 'true',
      'pip-args': `--no-index --find-links ${wheelhouse}`,
      env: 'DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost',
      'secret-env': `DJANGO_SECRET_KEY=${SECRET}`,
      appcmd: 'appcmd',
      icacls: 'icacls',
      'verify-url': `${standin.url}${APP}/`,
      'verify-body': 'Hello from Django',
      'verify-timeout': '30',
      'output-dir': path.join(work, 'output'),
      // This test's own server lock: other checkouts' tests on this machine must not wait on it.
      'lock-dir': path.join(work, 'server-lock')
    },
    sandbox.env,
    work
  )
  expect(run.exitCode, run.stdout.slice(-3000)).toBe(0)
  expect(run.outputs['rolled-back']).toBe('false')
}, 240_000)

afterAll(async () => {
  await standin?.close()
  sandbox?.cleanup()
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

describe.sequential('deploying examples/hello with hosting httpplatform at /dept/tools', () => {
  it('verify passed through the stand-in: waitress strips the app path IIS forwards, static files come from the vdir', async () => {
    expect(await get(`${APP}/`)).toMatchObject({ status: 200, body: 'Hello from Django' })
    expect(standin.served()).toContain('httpplatform')
    const css = await get(`${APP}/static/admin/css/base.css`)
    expect(css).toMatchObject({ status: 200, type: 'text/css' })
    // The secret reached the process from applicationHost.config's location, not from the release's web.config.
    expect(standin.backend()?.env.DJANGO_SECRET_KEY).toBe(SECRET)
    expect(fs.readFileSync(path.join(deployRoot, 'releases', 'h1', 'web.config'), 'utf8')).not.toContain(SECRET)
  })

  it('the stand-in is faithful: without --url-prefix the same release answers 404', async () => {
    const webConfig = path.join(deployRoot, 'releases', 'h1', 'web.config')
    const rendered = fs.readFileSync(webConfig, 'utf8')
    expect(rendered).toContain(`--url-prefix=${APP} `)
    try {
      fs.writeFileSync(webConfig, rendered.replace(` --url-prefix=${APP}`, ''))
      // HttpPlatformHandler forwarded /dept/tools/ as it came: Django's patterns start below the app.
      const page = await get(`${APP}/`)
      expect(page.status).toBe(404)
      expect(page.body).not.toContain('Hello from Django')
    } finally {
      fs.writeFileSync(webConfig, rendered)
    }
    expect(await get(`${APP}/`)).toMatchObject({ status: 200, body: 'Hello from Django' })
  })
})
