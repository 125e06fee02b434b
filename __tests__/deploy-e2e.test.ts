/**
 * The bundled action (node dist/index.js) deploys examples/hello for real: real Python, Django and pip, the appcmd
 * and icacls doubles on PATH, and the IIS stand-in serving what applicationHost.config says as the verify target.
 * One sandbox and one deploy-root flow through the ordered tests, as on a server that sees successive runs.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acquireLock } from '../src/iis/lock.js'
import { captureLog } from './support/iis-test-log.js'
import { backupsOf, createIisSandbox, type IisSandbox } from './support/iis-sandbox.js'
import {
  DIST_INDEX as DIST,
  EXAMPLE_APP as EXAMPLE,
  exampleVariant as variantOf,
  filesBelow,
  runAction,
  type ActionRun
} from './support/run-action.js'
import { startIisStandin, type IisStandin } from './support/iis-standin.mjs'
import { buildWheelhouse, SYSTEM_PYTHON } from './support/wheelhouse.js'

// A value long and random enough that finding it anywhere means it leaked.
const SECRET = `s3cr3t-${crypto.randomBytes(12).toString('hex')}`

let work: string
let sandbox: IisSandbox
let standin: IisStandin
let wheelhouse: string
let deployRoot: string
const allRuns: ActionRun[] = []
// Below the site root, two levels deep: IIS hands wfastcgi the whole URL path, and only the release's SCRIPT_NAME
// setting makes Django see paths below the app (the stand-in splits by wfastcgi's rule alone).
const APP = '/dept/tools'

function inputsFor(releaseId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    mode: 'deploy',
    'app-dir': EXAMPLE,
    'deploy-root': deployRoot,
    'app-path': APP,
    'release-id': releaseId,
    python: SYSTEM_PYTHON,
    'venv-system-site-packages': 'true',
    'pip-args': `--no-index --find-links ${wheelhouse}`,
    env: 'DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost',
    'secret-env': `DJANGO_SECRET_KEY=${SECRET}`,
    appcmd: 'appcmd',
    icacls: 'icacls',
    'verify-url': `${standin.url}${APP}/`,
    'verify-body': 'Hello from Django',
    'verify-timeout': '20',
    'output-dir': path.join(work, `output-${releaseId}`),
    // This test's own server lock: other checkouts' tests and demos on this machine must not wait on it.
    'lock-dir': path.join(work, 'server-lock'),
    ...extra
  }
}

/** The bundled action with the doubles on PATH; every run is kept for the secrets test. */
async function deploy(inputs: Record<string, string>): Promise<ActionRun> {
  const result = await runAction(inputs, sandbox.env, work)
  allRuns.push(result)
  return result
}

async function get(urlPath: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${standin.url}${urlPath}`)
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() }
}

function appPhysicalPath(): string | undefined {
  const m = /<application path="\/dept\/tools"[^>]*>\s*<virtualDirectory path="\/" physicalPath="([^"]*)"/.exec(sandbox.readConfig())
  return m?.[1]
}

beforeAll(async () => {
  expect(fs.existsSync(DIST), 'dist/index.js is missing: run npm run bundle').toBe(true)
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-e2e-'))
  deployRoot = path.join(work, 'deploy-root')
  sandbox = createIisSandbox()
  wheelhouse = await buildWheelhouse(path.join(work, 'wheelhouse'))
  standin = await startIisStandin({ configPath: sandbox.configPath })
})

afterAll(async () => {
  await standin?.close()
  sandbox?.cleanup()
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

describe.sequential('deploying examples/hello with the bundled action', () => {
  it('first deploy: exit 0, outputs, the stand-in serves Django and the admin CSS, the summary lists the objects', async () => {
    const r = await deploy(inputsFor('r1'))
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(0)
    expect(r.outputs.changed).toBe('true')
    expect(r.outputs['rolled-back']).toBe('false')
    expect(r.outputs.release).toBe('r1')
    expect(r.outputs['previous-release']).toBe('')
    expect(r.outputs.url).toBe(`${standin.url}${APP}/`)
    expect(fs.existsSync(r.outputs.plan ?? '')).toBe(true)

    expect(appPhysicalPath()).toBe(path.join(deployRoot, 'releases', 'r1'))
    const page = await get(`${APP}/`)
    expect(page).toMatchObject({ status: 200, body: 'Hello from Django' })
    const css = await get(`${APP}/static/admin/css/base.css`)
    expect(css.status).toBe(200)
    expect(css.type).toBe('text/css')
    expect(css.body).toBe(fs.readFileSync(path.join(deployRoot, 'releases', 'r1', 'static', 'admin', 'css', 'base.css'), 'utf8'))
    // Served by the static handler, not by Django: the static vdir's web.config took effect.
    expect(standin.served()).toContain('static')
    expect((await get(`${APP}/static/admin/css/missing.css`)).status).toBe(404)
    expect((await get('/')).status).toBe(404)

    // The backend runs with exactly the FastCGI registration's variables, the secret among them; the per-release
    // ones come from the release's web.config, as wfastcgi reads them.
    expect(standin.backend()?.physicalPath).toBe(path.join(deployRoot, 'releases', 'r1'))
    expect(Object.keys(standin.backend()?.env ?? {}).sort()).toEqual([
      'DJANGO_ALLOWED_HOSTS',
      'DJANGO_SECRET_KEY',
      'DJANGO_SETTINGS_MODULE',
      'WSGI_LOG'
    ])

    expect(r.summary).toMatch(/### IIS objects \(\d+ created/)
    expect(r.summary).toMatch(/\| Kind \| Name \| Status \|/)
    expect(r.summary).toContain('DefaultWebSite-dept-tools')
  })

  it("the stand-in is faithful: without the release's SCRIPT_NAME setting the same app answers 404", async () => {
    const webConfig = path.join(deployRoot, 'releases', 'r1', 'web.config')
    const rendered = fs.readFileSync(webConfig, 'utf8')
    expect(rendered).toContain(`<add key="SCRIPT_NAME" value="${APP}" />`)
    try {
      fs.writeFileSync(webConfig, rendered.replace(/^\s*<(remove|add) key="SCRIPT_NAME"[^>]*>\n/gm, ''))
      // wfastcgi passes /dept/tools/ whole as PATH_INFO: Django's patterns start below the app, so nothing matches.
      const page = await get(`${APP}/`)
      expect(page.status).toBe(404)
      expect(page.body).not.toContain('Hello from Django')
    } finally {
      fs.writeFileSync(webConfig, rendered)
    }
    expect(await get(`${APP}/`)).toMatchObject({ status: 200, body: 'Hello from Django' })
  })

  it("another app is refused the same deploy-root, naming it, before anything changes: its retention would delete this app's releases", async () => {
    const configBefore = sandbox.readConfig()
    const callsBefore = sandbox.calls().length
    const releasesBefore = fs.readdirSync(path.join(deployRoot, 'releases')).sort()
    const runs: ActionRun[] = []
    for (const round of [1, 2, 3]) {
      const extra = {
        'app-path': '/b',
        'keep-releases': '2',
        env: `DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost\nROUND=${round}`,
        'verify-url': `${standin.url}/b/`
      }
      runs.push(await deploy(inputsFor(`b${round}`, extra)))
    }
    // The app that owns the folder still serves its release.
    expect(await get(`${APP}/`)).toMatchObject({ status: 200, body: 'Hello from Django' })
    expect(fs.readdirSync(path.join(deployRoot, 'releases')).sort()).toEqual(releasesBefore)
    for (const r of runs) {
      expect(r.exitCode).not.toBe(0)
      expect(r.errors).toEqual([
        expect.stringMatching(
          /^::error::Input 'deploy-root': .* holds the releases of Default Web Site\/dept\/tools, not Default Web Site\/b: give each app its own deploy-root/
        )
      ])
    }
    expect(sandbox.calls().length).toBe(callsBefore)
    expect(sandbox.readConfig()).toBe(configBefore)
  })

  it('second deploy of the same content: nothing changes, at most 3 appcmd reads, no icacls', async () => {
    const configBefore = sandbox.readConfig()
    sandbox.resetCounters()
    const r = await deploy(inputsFor('r2'))
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(0)
    expect(r.outputs.changed).toBe('false')
    expect(r.outputs['rolled-back']).toBe('false')
    // The history (docs/doctor-and-history.md) names the release live before this run, and shows both runs.
    expect(r.outputs['previous-release']).toBe('r1')
    expect(r.summary).toMatch(/### Release history[\s\S]*\| no-op \|[\s\S]*\| deployed \|/)
    expect(sandbox.mutatingCalls().map(c => c.argv.join(' '))).toEqual([])
    expect(sandbox.calls().length).toBeLessThanOrEqual(3)
    expect(sandbox.aclGrants()).toEqual([])
    expect(sandbox.readConfig()).toBe(configBefore)
    expect(appPhysicalPath()).toBe(path.join(deployRoot, 'releases', 'r1'))
    expect(fs.existsSync(path.join(deployRoot, 'releases', 'r2'))).toBe(false)
    expect((await get(`${APP}/`)).body).toBe('Hello from Django')
  })

  it('a broken settings module fails the preflight: IIS as it was, no new release folder', async () => {
    const app = variantOf(work, 'broken-settings', 'hello/settings.py', t =>
      t.replace("ROOT_URLCONF = 'hello.urls'", "ROOT_URLCONF = 'hello.urls'\nimport hello.no_such_module")
    )
    const configBefore = sandbox.readConfig()
    const releasesBefore = fs.readdirSync(path.join(deployRoot, 'releases')).sort()
    const backupsBefore = backupsOf(sandbox)
    sandbox.resetCounters()
    const r = await deploy(inputsFor('r3', { 'app-dir': app }))
    expect(r.exitCode).not.toBe(0)
    expect(r.stdout).toMatch(/::error::.*(preflight|settings|no_such_module)/i)
    // The restore point taken beside the check (docs/iis-apply.md) is deleted again: IIS is left as it was.
    expect(sandbox.changingCalls().map(c => c.argv.join(' '))).toEqual([])
    expect(backupsOf(sandbox)).toEqual(backupsBefore)
    expect(sandbox.aclGrants()).toEqual([])
    expect(sandbox.readConfig()).toBe(configBefore)
    expect(fs.readdirSync(path.join(deployRoot, 'releases')).sort()).toEqual(releasesBefore)
    expect(r.outputs['rolled-back']).toBe('false')
    expect((await get(`${APP}/`)).body).toBe('Hello from Django')
  })

  it('a release that passes the preflight but fails verify is rolled back: config byte-identical, previous release served', async () => {
    // The preflight asks /health, which works; the page verify asks for is broken only in this release.
    const app = variantOf(work, 'broken-index', 'hello/urls.py', t =>
      t.replace(
        "return HttpResponse('Hello from Django'",
        "raise RuntimeError('index is broken in this release')\n    return HttpResponse('Hello from Django'"
      )
    )
    const configBefore = sandbox.readConfig()
    const startsBefore = standin.backendStarts()
    sandbox.resetCounters()
    // verify-timeout is the restored release's budget too: a cold Django start must fit in it under load; the broken
    // release's verify still ends early, on the same 500 answered again and again.
    // This test is about verify after the switch: the check before it is the next test's.
    const r = await deploy(
      inputsFor('r4', { 'app-dir': app, 'preflight-path': '/health', 'verify-timeout': '20', 'verify-before-switch': 'false' })
    )
    expect(r.exitCode).not.toBe(0)
    expect(r.outputs['rolled-back']).toBe('true')
    expect(sandbox.mutatingCalls().length).toBeGreaterThan(0)
    expect(sandbox.readConfig()).toBe(configBefore)
    // The stand-in ran the broken release (a new backend), then the restored one again.
    expect(standin.backendStarts()).toBeGreaterThanOrEqual(startsBefore + 2)
    expect(appPhysicalPath()).toBe(path.join(deployRoot, 'releases', 'r1'))
    expect(await get(`${APP}/`)).toMatchObject({ status: 200, body: 'Hello from Django' })
    expect(standin.backend()?.physicalPath).toBe(path.join(deployRoot, 'releases', 'r1'))

    expect(r.summary).toContain('### Rollback')
    expect(r.summary).toMatch(/### Verify\n[\s\S]*❌ failed/)
    expect(r.summary).toMatch(/#### Verify of the restored release\n[\s\S]*✅ passed/)
    const annotation = r.stdout.split('\n').find(l => l.startsWith('::error'))
    expect(annotation).toMatch(/verify failed \(main: /)
  })

  it('the same broken release with verify-before-switch fails on the temporary site: no switch, r1 served throughout', async () => {
    const app = variantOf(work, 'broken-index-2', 'hello/urls.py', t =>
      t.replace(
        "return HttpResponse('Hello from Django'",
        "raise RuntimeError('index is broken in this release')\n    return HttpResponse('Hello from Django'"
      )
    )
    const withoutTempLocations = (xml: string): string =>
      xml.replace(/ *<location path="diis-preswitch-[^"]*"[^>]*>[\s\S]*?<\/location>\n/g, '')
    const configBefore = sandbox.readConfig()
    sandbox.resetCounters()
    const r = await deploy(inputsFor('r5', { 'app-dir': app, 'preflight-path': '/health', 'verify-timeout': '20' }))
    expect(r.exitCode).not.toBe(0)
    const writes = sandbox.mutatingCalls().map(c => c.argv.join(' '))
    expect(writes.some(w => w.startsWith('add site /name:diis-preswitch-'))).toBe(true)
    expect(writes.filter(w => w.startsWith('set vdir'))).toEqual([])
    expect(withoutTempLocations(sandbox.readConfig())).toBe(withoutTempLocations(configBefore))
    expect(sandbox.readConfig()).not.toContain('<site name="diis-preswitch-')
    expect(appPhysicalPath()).toBe(path.join(deployRoot, 'releases', 'r1'))
    expect(await get(`${APP}/`)).toMatchObject({ status: 200, body: 'Hello from Django' })
    const annotation = r.stdout.split('\n').find(l => l.startsWith('::error'))
    expect(annotation).toMatch(/failed verify through IIS before the switch \(main: HTTP 500/)
    expect(annotation).toMatch(/the live release was not switched/)
    expect(r.summary).toContain('before switch: main')
  })

  it("waits for another app's deploy on the same server, then gives up clearly without touching IIS", async () => {
    // Another run holds the server-wide IIS lock (as a deploy of another app would, from backup to verify).
    const held = await acquireLock({
      dir: path.join(work, 'server-lock'),
      site: 'IIS',
      appPath: '/applicationHost.config',
      runId: 'other-app',
      timeoutMs: 1000,
      log: captureLog()
    })
    const before = sandbox.readConfig()
    const callsBefore = sandbox.calls().length
    try {
      const r = await runAction(inputsFor('r5', { 'lock-timeout': '1' }), sandbox.env, work)
      expect(r.exitCode).not.toBe(0)
      expect(r.errors.join('\n')).toMatch(/IIS\/applicationHost\.config is being deployed by run other-app .*gave up after lock-timeout/)
      expect(sandbox.calls().length).toBe(callsBefore)
      expect(sandbox.readConfig()).toBe(before)
    } finally {
      held.release()
    }
  })

  it('with SSO, a protected path that answers 200 fails verify and puts shibboleth2.xml back byte for byte', async () => {
    // The SP's file, its real checker, and net.exe's double on PATH (the stand-in has no SP, so the app answers 200).
    const sp = path.join(work, 'sp')
    fs.mkdirSync(path.join(sp, 'bin'), { recursive: true })
    const spConfig = path.join(sp, 'shibboleth2.xml')
    fs.copyFileSync('/etc/shibboleth/shibboleth2.xml', spConfig)
    fs.copyFileSync(path.join(import.meta.dirname, 'fixtures', 'shibboleth', 'net-double.sh'), path.join(sp, 'bin', 'net'))
    fs.chmodSync(path.join(sp, 'bin', 'net'), 0o755)
    const before = fs.readFileSync(spConfig)
    const iisBefore = sandbox.readConfig()
    const env = { ...sandbox.env, PATH: `${path.join(sp, 'bin')}${path.delimiter}${sandbox.env.PATH}` }

    const result = await runAction(
      inputsFor('r6', {
        shibboleth: 'true',
        'shibboleth-config': spConfig,
        'shibboleth-host': '127.0.0.1',
        'shibboleth-check': 'shibd -t -c {config}',
        'require-remote-user': 'false',
        // Room for Django's main check under load; the protected path's 200 ends verify early as the same answer.
        'verify-timeout': '20'
      }),
      env,
      work
    )
    allRuns.push(result)
    expect(result.exitCode).not.toBe(0)
    expect(result.outputs['rolled-back']).toBe('true')
    expect(result.errors.join('\n')).toMatch(/verify failed \(protected: /)
    expect(result.stdout).toMatch(/shibboleth2\.xml/)
    expect(fs.readFileSync(spConfig).equals(before)).toBe(true)
    expect(sandbox.readConfig()).toBe(iisBefore)
    // The SP was restarted for the patched file and again for the restored one.
    expect(
      fs
        .readFileSync(path.join(sp, 'bin', 'net-calls.log'), 'utf8')
        .trim()
        .split('\n')
    ).toEqual(['stop shibd_Default', 'start shibd_Default', 'stop shibd_Default', 'start shibd_Default'])
  })

  it('a changed STATIC_URL moves the static vdir, and verify fetches the file where the pages link it', async () => {
    const app = variantOf(work, 'static-assets', 'hello/settings.py', t =>
      t.replace("STATIC_URL = 'static/'", `STATIC_URL = '${APP}/assets/'`)
    )
    const r = await deploy(inputsFor('r-assets', { 'app-dir': app }))
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(0)
    const vdirs = [...sandbox.readConfig().matchAll(/<virtualDirectory path="([^"]*)" physicalPath="([^"]*)"/g)].map(m => `${m[1]} ${m[2]}`)
    expect(vdirs).toContain(`/assets ${path.join(deployRoot, 'releases', 'r-assets', 'static')}`)
    expect(vdirs.some(v => v.startsWith('/static '))).toBe(false)
    expect(r.stdout).toContain(`passed static ${standin.url}${APP}/assets/admin/css/base.css`)
    const css = await get(`${APP}/assets/admin/css/base.css`)
    expect(css).toMatchObject({ status: 200, type: 'text/css' })
  })

  it("refuses Django 3.2's default STATIC_URL '/static/' for an app below the root, leaving IIS as it was", async () => {
    const app = variantOf(work, 'static-root', 'hello/settings.py', t => t.replace("STATIC_URL = 'static/'", "STATIC_URL = '/static/'"))
    const configBefore = sandbox.readConfig()
    const backupsBefore = backupsOf(sandbox)
    sandbox.resetCounters()
    const r = await deploy(inputsFor('r-static-root', { 'app-dir': app }))
    expect(r.exitCode).not.toBe(0)
    expect(r.errors).toEqual([
      expect.stringContaining(`Django setting STATIC_URL: '/static/' makes pages link /static/, which is outside the app at ${APP}`)
    ])
    expect(sandbox.changingCalls()).toEqual([])
    expect(backupsOf(sandbox)).toEqual(backupsBefore)
    expect(sandbox.readConfig()).toBe(configBefore)
    expect(fs.existsSync(path.join(deployRoot, 'releases', 'r-static-root'))).toBe(false)
  })

  it('mode: rollback serves the release before the live one again, with its static vdir and its variables', async () => {
    // This run's env differs from r1's deploy: the release's own recorded values must win.
    const r = await deploy(inputsFor('', { mode: 'rollback', env: 'DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost,rolled.example' }))
    expect(r.exitCode, r.stdout.slice(-3000)).toBe(0)
    expect(r.outputs.release).toBe('r1')
    expect(r.outputs['previous-release']).toBe('r-assets')
    expect(appPhysicalPath()).toBe(path.join(deployRoot, 'releases', 'r1'))
    const vdirs = [...sandbox.readConfig().matchAll(/<virtualDirectory path="([^"]*)" physicalPath="([^"]*)"/g)].map(m => `${m[1]} ${m[2]}`)
    // r1's STATIC_URL is static/: its release's own folder, served through the app's root vdir, needs no vdir.
    expect(vdirs.some(v => v.startsWith('/static ') || v.startsWith('/assets '))).toBe(false)
    expect(await get(`${APP}/`)).toMatchObject({ status: 200, body: 'Hello from Django' })
    expect((await get(`${APP}/static/admin/css/base.css`)).status).toBe(200)
    expect(standin.backend()?.env.DJANGO_ALLOWED_HOSTS).toBe('127.0.0.1,localhost')
    expect(r.stdout).toContain('the database schema is not rolled back')
    const recorded = JSON.parse(fs.readFileSync(path.join(deployRoot, 'releases', 'r1', 'release.json'), 'utf8'))
    expect(recorded.state).toBe('live')
    expect(recorded.deployedWith.env).toContainEqual({ name: 'DJANGO_SECRET_KEY', secret: true })
  })

  it('the secret value is in no log line, no file under deploy-root, no plan.json and no summary', () => {
    // Three of them are the refused runs of another app, which mask the secret too; one is the broken release
    // stopped before the switch; the last is the rollback.
    expect(allRuns.length).toBe(12)
    for (const run of allRuns) {
      // The one line allowed to hold it is the workflow command that tells the runner to mask it.
      const lines = run.stdout.split('\n').filter(l => l !== `::add-mask::${SECRET}`)
      expect(run.stdout.split('\n')).toContain(`::add-mask::${SECRET}`)
      expect(lines.join('\n')).not.toContain(SECRET)
      expect(run.stderr).not.toContain(SECRET)
      expect(run.summary).not.toContain(SECRET)
      if (run.outputs.plan) expect(fs.readFileSync(run.outputs.plan, 'utf8')).not.toContain(SECRET)
    }
    expect(allRuns.filter(run => run.outputs.plan).length).toBeGreaterThanOrEqual(2)
    const files = filesBelow(deployRoot)
    expect(files).toContain(path.join('releases', 'r1', 'web.config'))
    expect(files.filter(f => f.startsWith(`history${path.sep}`))).toHaveLength(1)
    const leaking = files.filter(f => fs.readFileSync(path.join(deployRoot, f)).includes(SECRET))
    expect(leaking).toEqual([])
    // It did reach IIS's FastCGI registration, where the app reads it.
    expect(sandbox.readConfig()).toContain(SECRET)
  })
})
