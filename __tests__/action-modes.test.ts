import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLE_APP, filesBelow, runAction } from './support/run-action.js'
import { SYSTEM_PYTHON, buildWheelhouse } from './support/wheelhouse.js'

// The bundled action, run as the runner runs it, in the modes that need no IIS: plan and stage.
let tmp: string
let offline: Record<string, string>

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'action-modes-'))
  const wheelhouse = await buildWheelhouse(path.join(tmp, 'wheels'))
  offline = { python: SYSTEM_PYTHON, 'venv-system-site-packages': 'true', 'pip-args': `--no-index --find-links ${wheelhouse}` }
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const SECRET = 'Xq9-very-secret-value-42'

/** ::add-mask:: is how the runner learns a secret: it is never shown, so it is the one line allowed to hold it. */
function withoutMaskCommands(stdout: string): string {
  return stdout
    .split('\n')
    .filter(l => !l.startsWith('::add-mask::'))
    .join('\n')
}

function copyExample(name: string): string {
  const dir = path.join(tmp, name)
  fs.cpSync(EXAMPLE_APP, dir, { recursive: true, filter: src => !src.includes('__pycache__') })
  return dir
}

/** Plan mode for a Windows target, as a pull-request run on Linux would plan it. */
function planInputs(outputDir: string, over: Record<string, string> = {}): Record<string, string> {
  return {
    mode: 'plan',
    'app-dir': EXAMPLE_APP,
    'deploy-root': 'C:\\inetpub\\wwwroot\\hello',
    'app-path': '/app',
    'output-dir': outputDir,
    python: SYSTEM_PYTHON,
    ...over
  }
}

describe('plan mode', () => {
  it('renders web.config files and plan.json into output-dir and touches nothing else', async () => {
    const out = path.join(tmp, 'plan-out')
    const cwd = fs.mkdtempSync(path.join(tmp, 'cwd-'))
    const run = await runAction(planInputs(out, { 'release-id': 'r1', 'secret-env': `DJANGO_SECRET_KEY=${SECRET}` }), {}, cwd)
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(filesBelow(out).sort()).toEqual(['plan.json', 'static/web.config', 'web.config'])
    expect(fs.readdirSync(cwd)).toEqual([])
    const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8'))
    expect(plan.diffedAgainstServer).toBe(false)
    const lines = plan.operations.map((op: { tool: string; argv: string[] }) => `${op.tool} ${op.argv.join(' ')}`)
    // No IIS on this machine: the plan is the one for an empty server, a backup first.
    expect(plan.operations.map((op: { phase: string }) => op.phase)[0]).toBe('backup')
    expect(lines[1]).toBe(
      'appcmd add apppool /name:DefaultWebSite-app /managedRuntimeVersion: /processModel.identityType:ApplicationPoolIdentity'
    )
    expect(lines.some((l: string) => l.includes("environmentVariables.[name='DJANGO_SECRET_KEY',value='***']"))).toBe(true)
    expect(lines.at(-2)).toBe('appcmd recycle apppool /apppool.name:DefaultWebSite-app')
    expect(lines.at(-1)).toBe('appcmd list backups')
    // Per-release settings are in the release's web.config, not in the registration; WSGI_HANDLER comes from the
    // project's WSGI_APPLICATION even without a venv.
    expect(lines.some((l: string) => /name='(PYTHONPATH|WSGI_HANDLER)'/.test(l))).toBe(false)
    const web = fs.readFileSync(path.join(out, 'web.config'), 'utf8')
    expect(web).toContain('<add key="WSGI_HANDLER" value="hello.wsgi.application" />')
    expect(web).toContain('<add key="PYTHONPATH" value="C:\\inetpub\\wwwroot\\hello\\releases\\r1" />')
    expect(web).toContain('scriptProcessor="C:\\inetpub\\wwwroot\\hello\\venvs\\')
    expect(run.outputs.plan).toBe(path.join(out, 'plan.json'))
    for (const text of [
      withoutMaskCommands(run.stdout),
      run.stderr,
      run.summary,
      ...filesBelow(out).map(f => fs.readFileSync(path.join(out, f), 'utf8'))
    ]) {
      expect(text).not.toContain(SECRET)
    }
    expect(run.stdout).toContain('::group::Plan')
  })

  it('shows the static location from STATIC_URL, refuses one outside the app, and makes no static vdir when served elsewhere', async () => {
    const withStaticUrl = (name: string, value: string): string => {
      const dir = copyExample(name)
      const file = path.join(dir, 'hello', 'settings.py')
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace("STATIC_URL = 'static/'", `STATIC_URL = '${value}'`))
      return dir
    }
    const vdirOps = (out: string): string[] =>
      (JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as { operations: { argv: string[] }[] }).operations
        .map(op => op.argv.join(' '))
        .filter(l => l.startsWith('add vdir'))

    const assets = path.join(tmp, 'plan-assets')
    const ok = await runAction(planInputs(assets, { 'app-dir': withStaticUrl('static-assets', '/app/assets/') }))
    expect(ok.exitCode, ok.stdout.slice(-2000)).toBe(0)
    expect(ok.stdout).toContain('static files at /app/assets/ (virtual directory /assets of the app), from STATIC_URL')
    expect(vdirOps(assets)).toEqual([
      'add vdir /app.name:Default Web Site/app /path:/assets /physicalPath:C:\\inetpub\\wwwroot\\hello\\releases\\' +
        ok.outputs.release +
        '\\static'
    ])

    const rootDefault = withStaticUrl('static-root', '/static/')
    const refused = await runAction(planInputs(path.join(tmp, 'plan-refused'), { 'app-dir': rootDefault }))
    expect(refused.exitCode).not.toBe(0)
    expect(refused.errors).toHaveLength(1)
    expect(refused.errors[0]).toContain("Django setting STATIC_URL: '/static/' makes pages link /static/, which is outside the app at /app")
    expect(refused.errors[0]).toContain("'/app/static/'")

    const elsewhere = path.join(tmp, 'plan-elsewhere')
    const opted = await runAction(planInputs(elsewhere, { 'app-dir': rootDefault, 'static-served-elsewhere': 'true' }))
    expect(opted.exitCode, opted.stdout.slice(-2000)).toBe(0)
    expect(opted.stdout).toContain('static files served elsewhere')
    expect(vdirOps(elsewhere)).toEqual([])
  })

  it('patches an existing shibboleth2.xml into output-dir with a diff in the plan', async () => {
    const out = path.join(tmp, 'plan-sso')
    const run = await runAction(
      planInputs(out, {
        shibboleth: 'true',
        'shibboleth-config': '/etc/shibboleth/shibboleth2.xml',
        'shibboleth-host': 'app.example.edu',
        'verify-url': 'https://app.example.edu/app/'
      })
    )
    expect(run.errors).toEqual([])
    const patched = fs.readFileSync(path.join(out, 'shibboleth2.xml'), 'utf8')
    expect(patched.match(/<Path name="app"[^>]*requireSession="true"/g)).toHaveLength(1)
    const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8'))
    expect(plan.shibboleth.changed).toBe(true)
    expect(plan.shibboleth.diff).toMatch(/^\+.*<Path name="app"/m)
    expect(fs.readFileSync('/etc/shibboleth/shibboleth2.xml', 'utf8')).not.toContain('app.example.edu')
  })

  it('renders a fresh shibboleth2.xml when the SP is not on this machine (the default Windows path)', async () => {
    const out = path.join(tmp, 'plan-sso-fresh')
    const run = await runAction(planInputs(out, { shibboleth: 'true', 'shibboleth-host': 'app.example.edu' }))
    expect(run.errors).toEqual([])
    const fresh = fs.readFileSync(path.join(out, 'shibboleth2.xml'), 'utf8')
    expect(fresh).toMatch(/<Site id="1" name="app.example.edu"/)
    expect(fresh.match(/<Path name="app"[^>]*requireSession="true"/g)).toHaveLength(1)
  })
})

describe('stage mode', () => {
  const root = (): string => path.join(tmp, 'stage-root')
  const stageInputs = (over: Record<string, string> = {}): Record<string, string> => ({
    mode: 'stage',
    'app-dir': EXAMPLE_APP,
    'deploy-root': root(),
    'app-path': '/app',
    'output-dir': path.join(tmp, 'stage-out'),
    env: 'DJANGO_ALLOWED_HOSTS=localhost',
    'secret-env': `DJANGO_SECRET_KEY=${SECRET}`,
    ...offline,
    ...over
  })

  it('builds a proven release: venv, code, collected static files, web.config files, manifest', async () => {
    const run = await runAction(stageInputs({ 'release-id': 's1' }))
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    const release = path.join(root(), 'releases', 's1')
    for (const f of ['manage.py', 'hello/settings.py', 'web.config', 'static/web.config', 'static/admin/css/base.css', 'release.json']) {
      expect(fs.existsSync(path.join(release, f)), f).toBe(true)
    }
    expect(run.stdout).toMatch(/GET \/ through hello\.wsgi\.application \(Host: localhost\) answered 200/)
    expect(run.stdout).toMatch(/::warning title=manage\.py check --deploy::security\.W004/)
    expect(run.stdout).toContain('nothing was changed in IIS (mode: stage)')
    expect(run.outputs).toMatchObject({ release: 's1', changed: 'true', 'rolled-back': 'false' })
    // The static location from STATIC_URL = 'static/', and the URL the app rendered for a collected file.
    expect(run.stdout).toContain('static files at /app/static/ (virtual directory /static of the app), from STATIC_URL')
    const manifest = JSON.parse(fs.readFileSync(path.join(release, 'release.json'), 'utf8')) as { staticCheckUrl?: string }
    expect(manifest.staticCheckUrl).toBe('/app/static/admin/css/base.css')
    const web = fs.readFileSync(path.join(release, 'web.config'), 'utf8')
    expect(web).toMatch(/scriptProcessor="[^"]+\/venvs\/[0-9a-f]{12}\/bin\/python\|[^"]+\/site-packages\/wfastcgi\.py"/)
    const wfastcgi = /scriptProcessor="[^"|]+\|([^"]+)"/.exec(web)![1]
    expect(fs.existsSync(wfastcgi)).toBe(true)
    expect(run.summary).toContain('s1')
  })

  it('reuses the identical release and venv on a re-run, building nothing', async () => {
    const run = await runAction(stageInputs({ 'release-id': 's2' }))
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('Reused: interpreter, requirements and pip-args are unchanged')
    expect(run.stdout).toMatch(/Release s1 has the same code, venv and settings .*: reusing it/)
    expect(run.stdout).not.toContain('::group::collectstatic')
    expect(fs.existsSync(path.join(root(), 'releases', 's2'))).toBe(false)
    expect(run.outputs).toMatchObject({ release: 's1', changed: 'false' })
  })

  it('clears what a run that died left behind: scratch copies and an incomplete release of the same id', async () => {
    const releases = path.join(root(), 'releases')
    fs.mkdirSync(path.join(releases, '.staging-old-123', 'hello'), { recursive: true })
    fs.mkdirSync(path.join(releases, 's1b', 'hello'), { recursive: true })
    const run = await runAction(stageInputs({ 'release-id': 's1b' }))
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('an incomplete release left by an earlier run')
    expect(fs.readdirSync(releases).filter(n => n.startsWith('.staging-'))).toEqual([])
    expect(fs.existsSync(path.join(releases, 's1b'))).toBe(false)
    expect(run.outputs.release).toBe('s1')
  })

  it('keeps secrets out of every log line and every file under deploy-root', async () => {
    const run = await runAction(stageInputs({ 'release-id': 's3', env: 'DJANGO_ALLOWED_HOSTS=localhost,web01' }))
    expect(run.exitCode).toBe(0)
    expect(withoutMaskCommands(run.stdout) + run.stderr + run.summary).not.toContain(SECRET)
    // Venvs hold interpreters and libraries only; the release and the logs are what IIS serves and writes.
    for (const f of filesBelow(path.join(root(), 'releases'))) {
      expect(fs.readFileSync(path.join(root(), 'releases', f)).includes(SECRET), f).toBe(false)
    }
  })

  it('stops at the preflight for a settings module that does not import, leaving no release behind', async () => {
    const broken = copyExample('broken-settings')
    fs.appendFileSync(path.join(broken, 'hello', 'settings.py'), '\nimport hello.no_such_module\n')
    const before = fs.readdirSync(path.join(root(), 'releases')).sort()
    const run = await runAction(stageInputs({ 'app-dir': broken, 'release-id': 'bad1' }))
    expect(run.exitCode).not.toBe(0)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/hello\.no_such_module/)
    expect(run.stdout).not.toMatch(/^\s+at .*\.js:\d+/m)
    expect(fs.readdirSync(path.join(root(), 'releases')).sort()).toEqual(before)
  })

  it('with SSO, the preflight refuses settings without RemoteUserMiddleware and RemoteUserBackend unless opted out', async () => {
    const sso = { shibboleth: 'true', 'shibboleth-host': 'app.example.edu', 'deploy-root': path.join(tmp, 'sso-root') }
    const refused = await runAction(stageInputs({ ...sso, 'release-id': 'sso1' }))
    expect(refused.exitCode).not.toBe(0)
    expect(refused.errors).toHaveLength(1)
    expect(refused.errors[0]).toMatch(/RemoteUserMiddleware/)
    expect(refused.errors[0]).toMatch(/RemoteUserBackend/)
    expect(refused.errors[0]).toMatch(/require-remote-user: false/)
    expect(fs.existsSync(path.join(tmp, 'sso-root', 'releases', 'sso1'))).toBe(false)

    const optedOut = await runAction(stageInputs({ ...sso, 'release-id': 'sso2', 'require-remote-user': 'false' }))
    expect(optedOut.errors).toEqual([])
    expect(optedOut.exitCode).toBe(0)
  })

  it('with hosting httpplatform at /dept/tools, starts the rendered command line and gets the URL IIS forwards', async () => {
    const run = await runAction(
      stageInputs({ hosting: 'httpplatform', 'app-path': '/dept/tools', 'release-id': 'h1', 'deploy-root': path.join(tmp, 'hp-root') })
    )
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    // HttpPlatformHandler forwards /dept/tools/ unchanged: waitress must strip it, and the preflight asks for it.
    expect(run.stdout).toMatch(
      /HttpPlatformHandler command \(-m waitress --listen=127\.0\.0\.1:\d+ --url-prefix=\/dept\/tools hello\.wsgi:application\) answered 200 for \/dept\/tools\/ over HTTP/
    )
    const web = fs.readFileSync(path.join(tmp, 'hp-root', 'releases', 'h1', 'web.config'), 'utf8')
    expect(web).toContain('modules="httpPlatformHandler"')
    expect(web).not.toContain(SECRET)
  })

  it("fails the httpplatform preflight when the user's command ignores the app path, naming --url-prefix", async () => {
    const run = await runAction(
      stageInputs({
        hosting: 'httpplatform',
        'app-path': '/dept/tools',
        'release-id': 'h3',
        'deploy-root': path.join(tmp, 'hp-root3'),
        'httpplatform-command': '-m waitress --listen=127.0.0.1:%HTTP_PLATFORM_PORT% hello.wsgi:application'
      })
    )
    expect(run.exitCode).not.toBe(0)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/answered 404 for \/dept\/tools\//)
    expect(run.stdout).toContain('--url-prefix=/dept/tools')
    expect(fs.existsSync(path.join(tmp, 'hp-root3', 'releases', 'h3'))).toBe(false)
  })

  it('fails the httpplatform preflight when the command cannot serve', async () => {
    const run = await runAction(
      stageInputs({
        hosting: 'httpplatform',
        'release-id': 'h2',
        'deploy-root': path.join(tmp, 'hp-root2'),
        'httpplatform-command': '-m waitress --listen=127.0.0.1:%HTTP_PLATFORM_PORT% hello.nowhere:application'
      })
    )
    expect(run.exitCode).not.toBe(0)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/HttpPlatformHandler command/)
    expect(fs.existsSync(path.join(tmp, 'hp-root2', 'releases', 'h2'))).toBe(false)
  })
})

describe('bad input through the bundled action', () => {
  // Each: exit non-zero, one ::error:: line naming the input, no stack trace, nothing under deploy-root.
  const cases: [string, Record<string, string>, string][] = [
    ['missing app-dir', { 'app-dir': '/nonexistent/app' }, 'app-dir'],
    ['missing requirements', { requirements: 'nope.txt' }, 'requirements'],
    ['settings module not importable', { 'settings-module': 'nope.settings' }, 'settings-module'],
    ["' in an env value", { env: "A=it's" }, 'env'],
    ['] in a secret value', { 'secret-env': 'K=a]b' }, 'secret-env'],
    ['newline-split name', { env: 'A B=1' }, 'env'],
    ['app-path without /', { 'app-path': 'app' }, 'app-path'],
    ['verify-url not http(s)', { 'verify-url': 'file:///etc/passwd' }, 'verify-url'],
    ['unknown mode', { mode: 'apply' }, 'mode'],
    ['unknown hosting', { hosting: 'cgi' }, 'hosting']
  ]
  it.each(cases)('%s', async (_name, over, input) => {
    const deployRoot = path.join(tmp, `bad-${input}`)
    const run = await runAction({
      mode: 'stage',
      'app-dir': EXAMPLE_APP,
      'deploy-root': deployRoot,
      'app-path': '/app',
      python: SYSTEM_PYTHON,
      ...over
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(new RegExp(`^::error::Input '${input}': `))
    expect(run.stdout + run.stderr).not.toMatch(/^\s+at /m)
    expect(fs.existsSync(deployRoot)).toBe(false)
  })

  it('a template with a syntax error names the file and line', async () => {
    const templates = path.join(tmp, 'bad-templates')
    fs.mkdirSync(templates, { recursive: true })
    fs.writeFileSync(path.join(templates, 'app-web.config.hbs'), '<configuration>\n{{#each x}}\n</configuration>\n')
    const deployRoot = path.join(tmp, 'bad-templates-root')
    const run = await runAction({
      mode: 'stage',
      'app-dir': EXAMPLE_APP,
      'deploy-root': deployRoot,
      'app-path': '/app',
      templates,
      python: SYSTEM_PYTHON
    })
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toContain(`Input 'templates': ${path.join(templates, 'app-web.config.hbs')}:`)
    expect(fs.existsSync(deployRoot)).toBe(false)
  })

  it('deploy mode on a machine without appcmd names the missing tool before anything is created', async () => {
    const deployRoot = path.join(tmp, 'no-appcmd')
    const run = await runAction({
      mode: 'deploy',
      'app-dir': EXAMPLE_APP,
      'deploy-root': deployRoot,
      'app-path': '/app',
      python: SYSTEM_PYTHON
    })
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/^::error::Input 'appcmd': .*appcmd\.exe was not found on this machine/)
    expect(fs.existsSync(deployRoot)).toBe(false)
  })
})
