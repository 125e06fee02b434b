import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { derivePoolName, expandWindowsVars, getInputs, settingsFromManagePy, splitArgs } from '../src/config.js'
import { InputError } from '../src/errors.js'

let app: string

function project(dir: string): void {
  fs.mkdirSync(path.join(dir, 'site1'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'manage.py'), "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site1.settings')\n")
  fs.writeFileSync(path.join(dir, 'site1', 'settings.py'), 'X = 1\n')
  fs.writeFileSync(path.join(dir, 'requirements.txt'), 'Django>=3.2\n')
}

beforeAll(() => {
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'))
  project(app)
})
afterAll(() => fs.rmSync(app, { recursive: true, force: true }))

function inputs(over: Record<string, string> = {}) {
  const values: Record<string, string> = {
    mode: 'plan',
    'app-dir': app,
    'deploy-root': 'C:\\inetpub\\wwwroot\\app',
    'app-path': '/app',
    ...over
  }
  return (name: string) => values[name] ?? ''
}

function failure(over: Record<string, string>): InputError {
  try {
    getInputs(inputs(over), {}, app)
  } catch (e) {
    expect(e).toBeInstanceOf(InputError)
    return e as InputError
  }
  throw new Error('expected an InputError')
}

describe('getInputs', () => {
  it('derives defaults from the project and the target', () => {
    const c = getInputs(inputs(), { GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '2', RUNNER_TEMP: '/tmp/rt' }, app)
    expect(c.mode).toBe('plan')
    expect(c.settingsModule).toBe('site1.settings')
    expect(c.requirements).toBe(path.join(app, 'requirements.txt'))
    expect(c.flavour).toBe('win32')
    expect(c.appPool).toBe('DefaultWebSite-app')
    expect(c.releaseId).toBe('77-2')
    expect(c.outputDir).toBe(path.join('/tmp/rt', 'django-iis-deploy'))
    expect(c.verify.url).toBe('http://localhost/app/')
    expect(c.shibboleth.host).toBe('localhost')
    expect(c.hosting).toBe('fastcgi')
  })

  it('reads static-served-elsewhere as a boolean, false by default', () => {
    expect(getInputs(inputs(), {}, app).staticServedElsewhere).toBe(false)
    expect(getInputs(inputs({ 'static-served-elsewhere': 'true' }), {}, app).staticServedElsewhere).toBe(true)
    expect(failure({ 'static-served-elsewhere': 'cdn' }).message).toBe(
      "Input 'static-served-elsewhere': 'cdn' is not a boolean; use true or false"
    )
  })

  it('deploys by default', () => {
    expect(getInputs(inputs({ mode: '', 'deploy-root': '/srv/app' }), {}, app).mode).toBe('deploy')
  })

  it('reads env and secret-env, keeping secrets marked', () => {
    const c = getInputs(inputs({ env: 'A=1\n# comment\n\nB=x=y', 'secret-env': 'DJANGO_SECRET_KEY=s3cr3t' }), {}, app)
    expect(c.env).toEqual([
      { name: 'A', value: '1', secret: false },
      { name: 'B', value: 'x=y', secret: false },
      { name: 'DJANGO_SECRET_KEY', value: 's3cr3t', secret: true }
    ])
  })

  it('treats SECRET_KEY-like names given in env as secrets', () => {
    const c = getInputs(inputs({ env: 'DJANGO_SECRET_KEY=abc123\nDB_PASSWORD=pw12345\nDEBUG_LEVEL=1' }), {}, app)
    expect(c.env.map(v => [v.name, v.secret])).toEqual([
      ['DJANGO_SECRET_KEY', true],
      ['DB_PASSWORD', true],
      ['DEBUG_LEVEL', false]
    ])
  })

  it('trims a trailing slash of app-path and keeps / for a root app', () => {
    expect(getInputs(inputs({ 'app-path': '/app/' }), {}, app).appPath).toBe('/app')
    expect(getInputs(inputs({ 'app-path': '/' }), {}, app).appPath).toBe('/')
  })

  it('parses verify-body as text or /regex/', () => {
    expect(getInputs(inputs({ 'verify-body': 'Hello' }), {}, app).verify.body).toEqual({ text: 'Hello' })
    expect(getInputs(inputs({ 'verify-body': '/^Hel+o/' }), {}, app).verify.body).toEqual({ regex: '^Hel+o' })
  })

  // The bad-input list of the staging issue: each names its input and says how to fix it.
  const cases: [string, Record<string, string>, string, RegExp][] = [
    ['missing app-dir', { 'app-dir': '/nonexistent/app' }, 'app-dir', /does not exist/],
    ['unknown mode', { mode: 'yolo' }, 'mode', /use one of: deploy, stage, plan/],
    ['unknown hosting', { hosting: 'cgi' }, 'hosting', /use one of: fastcgi, httpplatform/],
    ['unknown anonymous-user', { 'anonymous-user': 'IUSR' }, 'anonymous-user', /use one of: pool, keep/],
    ['app-path without leading slash', { 'app-path': 'app' }, 'app-path', /must start with \/, e.g. \/app/],
    ['missing app-path', { 'app-path': '' }, 'app-path', /is required/],
    ['missing deploy-root', { 'deploy-root': '' }, 'deploy-root', /is required/],
    ['relative deploy-root', { 'deploy-root': 'rel/dir' }, 'deploy-root', /absolute path/],
    ['quote in an env value', { env: "A=it's" }, 'env', /contains '.*remove it/],
    ['bracket in a secret value', { 'secret-env': 'K=a]b' }, 'secret-env', /contains \]/],
    ['quote in site-name', { 'site-name': "Bob's site" }, 'site-name', /contains '/],
    ['env name that is not an identifier', { env: '1BAD=x' }, 'env', /not a valid variable name/],
    ['env name with a dash', { env: 'MY-VAR=x' }, 'env', /not a valid variable name/],
    ['env line without =', { env: 'JUSTTEXT' }, 'env', /not KEY=VALUE/],
    ['reserved env name', { env: 'WSGI_HANDLER=x.y' }, 'env', /set by the action itself/],
    ['SCRIPT_NAME, which follows app-path', { 'secret-env': 'script_name=/x' }, 'secret-env', /set by the action itself/],
    ['empty env value', { env: 'A=' }, 'env', /empty value/],
    ['duplicate across env and secret-env', { env: 'A=1', 'secret-env': 'A=two' }, 'secret-env', /set twice/],
    ['verify-url not http', { 'verify-url': 'ftp://host/app' }, 'verify-url', /not http\(s\)/],
    ['verify-url not a URL', { 'verify-url': 'localhost/app' }, 'verify-url', /not a URL/],
    ['settings module not importable', { 'settings-module': 'nope.settings' }, 'settings-module', /not importable/],
    ['settings module malformed', { 'settings-module': 'a-b.settings' }, 'settings-module', /not a Python module path/],
    ['missing requirements', { requirements: 'reqs/none.txt' }, 'requirements', /does not exist/],
    ['bad boolean', { shibboleth: 'maybe' }, 'shibboleth', /not a boolean/],
    ['bad number', { 'keep-releases': 'many' }, 'keep-releases', /whole number/],
    [
      'httpplatform with shibboleth',
      { hosting: 'httpplatform', shibboleth: 'true' },
      'hosting',
      /REMOTE_USER does not cross HttpPlatformHandler/
    ],
    [
      'gunicorn for httpplatform',
      { hosting: 'httpplatform', 'httpplatform-command': '-m gunicorn --bind :%HTTP_PLATFORM_PORT% a:b' },
      'httpplatform-command',
      /gunicorn does not run on Windows/
    ],
    ['bad verify-body regex', { 'verify-body': '/(/' }, 'verify-body', /not a valid regular expression/],
    ['bad release-id', { 'release-id': '../x' }, 'release-id', /names a folder/],
    [
      'Windows deploy-root for stage on Linux',
      { mode: 'stage' },
      'deploy-root',
      /is a Windows path, but stage mode builds the release on this linux machine/
    ],
    ['shibboleth without a host', { shibboleth: 'true' }, 'shibboleth-host', /is required with shibboleth: true/]
  ]
  it.each(cases)('%s → one line naming %s', (_name, over, input, fix) => {
    const e = failure(over)
    expect(e.input).toBe(input)
    expect(e.message).toMatch(fix)
    expect(e.message.startsWith(`Input '${input}':`)).toBe(true)
    expect(e.message).not.toContain('\n')
  })

  it('names manage.py when app-dir is not a Django project', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-empty-'))
    try {
      const e = failure({ 'app-dir': empty })
      expect(e.input).toBe('app-dir')
      expect(e.message).toMatch(/has no manage.py/)
    } finally {
      fs.rmSync(empty, { recursive: true })
    }
  })
})

describe('helpers', () => {
  it('reads the settings module manage.py sets', () => {
    expect(settingsFromManagePy(`os.environ.setdefault("DJANGO_SETTINGS_MODULE", "a.b.settings")`)).toBe('a.b.settings')
    expect(settingsFromManagePy('print(1)')).toBeUndefined()
  })
  it('splits pip-args with quoted Windows paths', () => {
    expect(splitArgs('--no-index --find-links "D:\\my wheels" -q')).toEqual(['--no-index', '--find-links', 'D:\\my wheels', '-q'])
  })
  it('derives pool names without characters IIS refuses', () => {
    expect(derivePoolName('Default Web Site', '/app/v2')).toBe('DefaultWebSite-app-v2')
    expect(derivePoolName('Intranet', '/')).toBe('Intranet')
  })
  it('expands %windir% case-insensitively and leaves unknown names', () => {
    expect(expandWindowsVars('%windir%\\system32\\inetsrv\\appcmd.exe', { WINDIR: 'C:\\Windows' })).toBe(
      'C:\\Windows\\system32\\inetsrv\\appcmd.exe'
    )
    expect(expandWindowsVars('%nope%\\x', {})).toBe('%nope%\\x')
  })
})
