import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { layoutFor } from '../src/layout.js'
import { checkDeploy, collectStatic, inspectSettings, preflightRequest, type DjangoOptions } from '../src/python/django.js'
import { probeInterpreter } from '../src/python/interpreter.js'
import { copyProject } from '../src/python/release-files.js'
import { ensureVenv, venvHash } from '../src/python/venv.js'
import { captureLog } from './support/iis-test-log.js'
import { countingRunner } from './support/counting-runner.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { SYSTEM_PYTHON, buildWheelhouse } from './support/wheelhouse.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'django-test-'))
const layout = layoutFor(root)
const runner = countingRunner()
const log = captureLog()
const SECRET = 'test-secret-key-3f9a1c7e5b2d8064aa17c3e9f0b5d2a6-never-in-argv'

let venvPython = ''

/** The environment IIS registers for the app, as the plan builds it. */
function iisVars(releaseDir: string, settingsModule = 'hello.settings'): DjangoOptions['env'] {
  return [
    { name: 'DJANGO_SETTINGS_MODULE', value: settingsModule },
    { name: 'PYTHONPATH', value: releaseDir },
    { name: 'WSGI_HANDLER', value: 'hello.wsgi.application' },
    { name: 'WSGI_LOG', value: path.join(layout.logsDir, 'wfastcgi.log') },
    { name: 'DJANGO_SECRET_KEY', value: SECRET, secret: true }
  ]
}

/** The variables plus the SCRIPT_NAME setting a release's appSettings add for an app below the site root. */
function withScriptName(opts: DjangoOptions, scriptName: string): DjangoOptions {
  return { ...opts, env: [...opts.env, { name: 'SCRIPT_NAME', value: scriptName }] }
}

function release(id: string, edit?: (dir: string) => void): string {
  const dir = layout.releaseDir(id)
  copyProject(EXAMPLE_APP, dir)
  edit?.(dir)
  return dir
}

function options(releaseDir: string, settingsModule = 'hello.settings'): DjangoOptions {
  return { venvPython, projectDir: releaseDir, settingsModule, env: iisVars(releaseDir, settingsModule) }
}

async function phaseError(promise: Promise<unknown>): Promise<PhaseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(PhaseError)
  return error as PhaseError
}

beforeAll(async () => {
  // Missing Python or Django fails here, loudly: these tests never skip.
  const interpreter = await probeInterpreter(runner, SYSTEM_PYTHON)
  const django = await runner.run(SYSTEM_PYTHON, ['-I', '-c', 'import django; print(django.get_version())'])
  if (django.exitCode !== 0) throw new Error(`Django is not importable by ${SYSTEM_PYTHON} (install python3-django): ${django.stderr}`)

  const wheelhouse = await buildWheelhouse(path.join(root, 'wheels'))
  const requirements = path.join(EXAMPLE_APP, 'requirements.txt')
  const pipArgs = ['--no-index', '--find-links', wheelhouse]
  const hash = venvHash({
    interpreterVersion: interpreter.version,
    interpreterPath: interpreter.executable,
    requirementsText: fs.readFileSync(requirements, 'utf8'),
    pipArgs,
    extraRequirements: ['wfastcgi==3.0.0'],
    systemSitePackages: true
  })
  await ensureVenv(runner, log, {
    python: SYSTEM_PYTHON,
    venvDir: layout.venvDir(hash),
    venvPython: layout.venvPython(hash),
    hash,
    systemSitePackages: true,
    requirementsFile: requirements,
    pipArgs,
    extraRequirements: ['wfastcgi==3.0.0']
  })
  venvPython = layout.venvPython(hash)
})

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('Django steps against examples/hello in a real venv', () => {
  it('reads the settings the deploy needs', async () => {
    const dir = release('settings')
    const settings = await inspectSettings(runner, options(dir))
    expect(settings.WSGI_APPLICATION).toBe('hello.wsgi.application')
    expect(settings.STATIC_URL).toBe('static/')
    expect(settings.STATIC_ROOT).toBe(path.join(dir, 'staticfiles'))
    expect(settings.INSTALLED_APPS).toContain('django.contrib.staticfiles')
    expect(settings.MIDDLEWARE).toContain('django.contrib.auth.middleware.AuthenticationMiddleware')
    expect(settings.AUTHENTICATION_BACKENDS).toEqual(['django.contrib.auth.backends.ModelBackend'])
    expect(settings.ALLOWED_HOSTS).toEqual(['localhost', '127.0.0.1'])
    expect(settings.DEBUG).toBe(false)
  })

  it('collects static files into the release static folder, not the project STATIC_ROOT', async () => {
    const dir = release('collect')
    const staticRoot = layout.staticDir('collect-target')
    const { files } = await collectStatic(runner, log, { ...options(dir), staticRoot })
    expect(files).toContain('admin/css/base.css')
    expect(fs.readFileSync(path.join(staticRoot, 'admin', 'css', 'base.css'), 'utf8')).toContain('DJANGO Admin styles')
    expect(fs.existsSync(path.join(dir, 'staticfiles'))).toBe(false)
  })

  it('returns check --deploy warnings by id', async () => {
    const dir = release('check')
    const { warnings } = await checkDeploy(runner, options(dir))
    const ids = warnings.map(w => w.id)
    expect(ids).toContain('security.W004')
    // The key arrived through the environment, so the example's own warning about a missing key stays quiet.
    expect(ids).not.toContain('hello.W001')

    const withoutKey = { ...options(dir), env: options(dir).env.filter(v => v.name !== 'DJANGO_SECRET_KEY') }
    expect((await checkDeploy(runner, withoutKey)).warnings.map(w => w.id)).toContain('hello.W001')
  })

  it('fails check --deploy on a system check error, with the check text', async () => {
    const dir = release('check-error', d => fs.appendFileSync(path.join(d, 'hello', 'settings.py'), '\nTEMPLATES = []\n'))
    const error = await phaseError(checkDeploy(runner, options(dir)))
    expect(error.phase).toBe('preflight')
    expect(error.message).toContain('admin.E403')
  })

  it('answers GET / with 200 and the page, through WSGI_HANDLER, as wfastcgi splits SCRIPT_NAME for /app', async () => {
    const dir = release('ok')
    const first = runner.calls.length
    const result = await preflightRequest(runner, {
      ...withScriptName(options(dir), '/app'),
      path: '/',
      host: 'localhost',
      appPath: '/app'
    })
    expect(result.status).toBe(200)
    expect(result.body).toBe('Hello from Django')
    expect(result.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(result.handler).toBe('hello.wsgi.application')
    expect(result.scriptName).toBe('/app')
    expect(result.pathInfo).toBe('/')

    const call = runner.calls[first]
    expect(call?.options.cwd).toBe(dir)
    expect(call?.options.env?.PYTHONPATH).toBe(dir)
    expect(call?.options.env?.DJANGO_SECRET_KEY).toBe(SECRET)
  })

  it("splits SCRIPT_NAME when the setting matches the URL path ignoring case, keeping the setting's spelling", async () => {
    const dir = release('case')
    const result = await preflightRequest(runner, {
      ...withScriptName(options(dir), '/dept/tools'),
      path: '/health',
      host: 'localhost',
      appPath: '/DEPT/Tools'
    })
    expect(result.status).toBe(200)
    expect(result.scriptName).toBe('/dept/tools')
    expect(result.pathInfo).toBe('/health')
  })

  it('leaves the whole URL path in PATH_INFO when the SCRIPT_NAME setting does not prefix it: Django answers 404', async () => {
    const dir = release('other-prefix')
    const error = await phaseError(
      preflightRequest(runner, { ...withScriptName(options(dir), '/other'), path: '/health', host: 'localhost', appPath: '/dept/tools' })
    )
    expect(error.message).toContain('answered 404')
    expect(error.hint).toContain("PATH_INFO '/dept/tools/health' (SCRIPT_NAME '')")
  })

  it('without a SCRIPT_NAME setting, an app below the site root gets its whole path and no pattern matches', async () => {
    const dir = release('no-setting')
    const error = await phaseError(preflightRequest(runner, { ...options(dir), path: '/', host: 'localhost', appPath: '/dept/tools' }))
    expect(error.message).toContain('answered 404')
    expect(error.hint).toBe(
      "the app path stayed in PATH_INFO '/dept/tools/' (SCRIPT_NAME ''): wfastcgi strips it only when the SCRIPT_NAME setting equals /dept/tools"
    )
  })

  it('reports the URLs the app renders for STATIC_URL and a collected file: a relative one follows SCRIPT_NAME', async () => {
    const dir = release('static-relative')
    const result = await preflightRequest(runner, {
      ...withScriptName(options(dir), '/app'),
      path: '/',
      host: 'localhost',
      appPath: '/app',
      staticFile: 'admin/css/base.css'
    })
    expect(result.static).toEqual({ staticUrl: '/app/static/', fileUrl: '/app/static/admin/css/base.css' })
    const atRoot = await preflightRequest(runner, {
      ...options(dir),
      path: '/',
      host: 'localhost',
      appPath: '/',
      staticFile: 'admin/css/base.css'
    })
    expect(atRoot.static).toEqual({ staticUrl: '/static/', fileUrl: '/static/admin/css/base.css' })
  })

  it('reports an absolute STATIC_URL path as written, below the app or not', async () => {
    const withStaticUrl =
      (value: string) =>
      (d: string): void => {
        const file = path.join(d, 'hello', 'settings.py')
        fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace("STATIC_URL = 'static/'", `STATIC_URL = '${value}'`))
      }
    const assets = release('static-assets', withStaticUrl('/app/assets/'))
    const inApp = await preflightRequest(runner, {
      ...withScriptName(options(assets), '/app'),
      path: '/',
      host: 'localhost',
      appPath: '/app',
      staticFile: 'admin/css/base.css'
    })
    expect(inApp.static).toEqual({ staticUrl: '/app/assets/', fileUrl: '/app/assets/admin/css/base.css' })
    const root = release('static-root', withStaticUrl('/static/'))
    const outside = await preflightRequest(runner, {
      ...withScriptName(options(root), '/app'),
      path: '/',
      host: 'localhost',
      appPath: '/app',
      staticFile: 'admin/css/base.css'
    })
    expect(outside.static).toEqual({ staticUrl: '/static/', fileUrl: '/static/admin/css/base.css' })
    const settings = await inspectSettings(runner, options(root))
    expect(settings.STATIC_URL).toBe('/static/')
    expect(settings.FORCE_SCRIPT_NAME).toBeNull()
  })

  it('answers /health with JSON for a site root app', async () => {
    const dir = release('health')
    const result = await preflightRequest(runner, { ...options(dir), path: '/health', host: '127.0.0.1:8080', appPath: '/' })
    expect(result.status).toBe(200)
    expect(JSON.parse(result.body)).toEqual({ status: 'ok' })
    expect(result.scriptName).toBe('')
    expect(result.pathInfo).toBe('/health')
  })

  it('names a wrong settings module as the cause', async () => {
    // The project as a user might ship it: manage.py and the environment name a settings module that does not exist.
    const dir = release('bad-settings', d => {
      const manage = path.join(d, 'manage.py')
      fs.writeFileSync(manage, fs.readFileSync(manage, 'utf8').replace("'hello.settings'", "'hello.missing_settings'"))
    })
    const error = await phaseError(
      preflightRequest(runner, {
        ...withScriptName(options(dir, 'hello.missing_settings'), '/app'),
        path: '/',
        host: 'localhost',
        appPath: '/app'
      })
    )
    expect(error.phase).toBe('preflight')
    expect(error.message).toContain('wrong settings module')
    expect(error.message).toContain("No module named 'hello.missing_settings'")
    expect(error.hint).toContain('settings-module')
    expect(error.message).toMatch(/ModuleNotFoundError/)
  })

  it('names a missing package as an import error to add to requirements', async () => {
    const dir = release('bad-import', d => {
      const urls = path.join(d, 'hello', 'urls.py')
      fs.writeFileSync(urls, `import notinstalledpkg  # noqa\n${fs.readFileSync(urls, 'utf8')}`)
    })
    const error = await phaseError(
      preflightRequest(runner, { ...withScriptName(options(dir), '/app'), path: '/', host: 'localhost', appPath: '/app' })
    )
    expect(error.message).toContain("'notinstalledpkg'")
    expect(error.hint).toContain('add it to requirements')
  })

  it('names DisallowedHost with the host to add to ALLOWED_HOSTS', async () => {
    const dir = release('bad-host')
    const error = await phaseError(
      preflightRequest(runner, { ...withScriptName(options(dir), '/app'), path: '/', host: 'www.example.org', appPath: '/app' })
    )
    expect(error.message).toContain('answered 400')
    expect(error.hint).toBe("DisallowedHost: add 'www.example.org' to ALLOWED_HOSTS in the settings (or the variable they read it from)")
  })

  it('passes the secret only through the environment, never in argv', () => {
    expect(runner.calls.length).toBeGreaterThan(0)
    for (const call of runner.calls) {
      expect(call.args.join(' ')).not.toContain(SECRET)
      expect(call.options.input ?? '').not.toContain(SECRET)
    }
    expect(runner.calls.some(c => c.options.env?.DJANGO_SECRET_KEY === SECRET)).toBe(true)
    expect(log.lines.join('\n')).not.toContain(SECRET)
  })
})
