import { describe, expect, it } from 'vitest'
import { buildPlan } from '../src/plan/build.js'
import { planChanges } from '../src/plan/diff.js'
import type { CurrentState } from '../src/iis/state.js'
import type { DesiredState, Operation } from '../src/plan/types.js'
import { IndexerValueError } from '../src/iis/appcmd.js'

const ROOT = 'C:\\inetpub\\django\\hello'
const PY = `${ROOT}\\venvs\\abc123\\Scripts\\python.exe`
const WFC = `${ROOT}\\venvs\\abc123\\Lib\\site-packages\\wfastcgi.py`

function desired(over: Partial<DesiredState> = {}): DesiredState {
  return {
    hosting: 'fastcgi',
    pool: { name: 'DefaultWebSite-app', identity: 'ApplicationPoolIdentity', managedRuntimeVersion: '' },
    app: { site: 'Default Web Site', path: '/app', pool: 'DefaultWebSite-app', physicalPath: `${ROOT}\\releases\\r2` },
    staticLocation: { kind: 'vdir', urlPath: '/app/static/', vdirPath: '/static' },
    staticVdir: { path: '/static', physicalPath: `${ROOT}\\releases\\r2\\static` },
    ownedStaticPrefix: `${ROOT}\\releases`,
    fastCgi: {
      fullPath: PY,
      arguments: WFC,
      env: [
        { name: 'DJANGO_SETTINGS_MODULE', value: 'hello.settings', secret: false },
        { name: 'WSGI_LOG', value: `${ROOT}\\logs\\wfastcgi.log`, secret: false },
        { name: 'API_TOKEN', value: 's3cr3t-token', secret: true }
      ]
    },
    httpPlatformSecretEnv: [],
    anonymousAsPool: true,
    ownedPrefix: `${ROOT}\\venvs`,
    acl: [],
    ...over
  }
}

/** The state IIS is in right after `desired()` was applied. */
function matching(d: DesiredState): CurrentState {
  return {
    pool: { exists: true, identity: d.pool.identity, managedRuntimeVersion: '' },
    site: { exists: true, id: 1, bindings: [{ protocol: 'http', bindingInformation: '*:80:' }] },
    app: { exists: true, pool: d.pool.name, physicalPath: d.app.physicalPath },
    vdirs: d.staticVdir ? [{ path: d.staticVdir.path, physicalPath: d.staticVdir.physicalPath }] : [],
    fastCgi: d.fastCgi
      ? [{ fullPath: d.fastCgi.fullPath, arguments: d.fastCgi.arguments, env: d.fastCgi.env.map(({ name, value }) => ({ name, value })) }]
      : [],
    handlersUnlocked: true,
    anonymousAsPool: true
  }
}

const KEY = `[fullPath='${PY}',arguments='${WFC}']`

/** The plan's appcmd writes after its backup (no grants pending): what changes IIS, in the order it runs. */
function appcmdWrites(current: CurrentState | undefined, d: DesiredState): Operation[] {
  const plan = buildPlan({
    deployRoot: ROOT,
    desired: d,
    current,
    grants: { operations: [], pending: [] },
    releaseId: 'r2',
    keepBackups: 5,
    now: new Date(0)
  })
  return plan.steps.filter(s => s.tool === 'appcmd' && s.mutates && s.phase !== 'backup').map(({ phase: _phase, ...op }) => op)
}

describe('the plan against the state read', () => {
  it('plans every operation, in dependency order, for a fresh server', () => {
    const ops = appcmdWrites(undefined, desired())
    expect(ops.map(o => o.argv)).toEqual([
      ['add', 'apppool', '/name:DefaultWebSite-app', '/managedRuntimeVersion:', '/processModel.identityType:ApplicationPoolIdentity'],
      [
        'add',
        'app',
        '/site.name:Default Web Site',
        '/path:/app',
        `/physicalPath:${ROOT}\\releases\\r2`,
        '/applicationPool:DefaultWebSite-app'
      ],
      ['unlock', 'config', 'Default Web Site/app', '-section:system.webServer/handlers', '/commit:apphost'],
      [
        'set',
        'config',
        'Default Web Site/app',
        '-section:system.webServer/security/authentication/anonymousAuthentication',
        '/userName:',
        '--password',
        '/commit:apphost'
      ],
      ['add', 'vdir', '/app.name:Default Web Site/app', '/path:/static', `/physicalPath:${ROOT}\\releases\\r2\\static`],
      ['set', 'config', '-section:system.webServer/fastCgi', `/+${KEY}`, '/commit:apphost'],
      [
        'set',
        'config',
        '-section:system.webServer/fastCgi',
        `/+${KEY}.environmentVariables.[name='DJANGO_SETTINGS_MODULE',value='hello.settings']`,
        '/commit:apphost'
      ],
      [
        'set',
        'config',
        '-section:system.webServer/fastCgi',
        `/+${KEY}.environmentVariables.[name='WSGI_LOG',value='${ROOT}\\logs\\wfastcgi.log']`,
        '/commit:apphost'
      ],
      [
        'set',
        'config',
        '-section:system.webServer/fastCgi',
        `/+${KEY}.environmentVariables.[name='API_TOKEN',value='s3cr3t-token']`,
        '/commit:apphost'
      ],
      ['recycle', 'apppool', '/apppool.name:DefaultWebSite-app']
    ])
    expect(ops.every(o => o.tool === 'appcmd' && o.mutates)).toBe(true)
    // The secret reaches appcmd's argv but is marked, and never appears in the explanation.
    const secretOp = ops[8]
    expect(secretOp.secrets).toEqual(['s3cr3t-token'])
    expect(ops.filter(o => o.secrets).length).toBe(1)
    expect(ops.map(o => o.why).join('\n')).not.toContain('s3cr3t-token')
  })

  it("leaves the site's anonymous user alone with anonymous-user: keep", () => {
    const ops = appcmdWrites(undefined, desired({ anonymousAsPool: false }))
    expect(ops.some(o => o.argv.includes('-section:system.webServer/security/authentication/anonymousAuthentication'))).toBe(false)
  })

  it('plans nothing when IIS already matches', () => {
    const d = desired()
    expect(appcmdWrites(matching(d), d)).toEqual([])
    expect(planChanges(matching(d), d).objects.every(o => o.status === 'unchanged')).toBe(true)
  })

  it('treats names and paths case-insensitively, as IIS does', () => {
    const d = desired()
    const now = matching(d)
    now.app.pool = d.pool.name.toUpperCase()
    now.app.physicalPath = `${d.app.physicalPath.toLowerCase()}\\`
    expect(appcmdWrites(now, d)).toEqual([])
  })

  it('sets exactly the one changed environment value, then recycles', () => {
    const d = desired()
    const now = matching(d)
    now.fastCgi[0].env[0].value = 'hello.settings_old'
    const ops = appcmdWrites(now, d)
    expect(ops.map(o => o.argv)).toEqual([
      [
        'set',
        'config',
        '-section:system.webServer/fastCgi',
        `/${KEY}.environmentVariables.[name='DJANGO_SETTINGS_MODULE'].value:hello.settings`,
        '/commit:apphost'
      ],
      ['recycle', 'apppool', '/apppool.name:DefaultWebSite-app']
    ])
  })

  it('adds a missing variable and removes a stale one of ours', () => {
    const d = desired()
    const now = matching(d)
    now.fastCgi[0].env = now.fastCgi[0].env.filter(v => v.name !== 'WSGI_LOG')
    now.fastCgi[0].env.push({ name: 'OLD_FLAG', value: '1' })
    const argv = appcmdWrites(now, d).map(o => o.argv[3])
    expect(argv).toEqual([
      `/+${KEY}.environmentVariables.[name='WSGI_LOG',value='${ROOT}\\logs\\wfastcgi.log']`,
      `/-${KEY}.environmentVariables.[name='OLD_FLAG']`,
      undefined
    ])
  })

  it('registers the new venv, switches, then removes the old FastCGI app of ours but not foreign ones', () => {
    const d = desired()
    const now = matching(d)
    const oldPy = `${ROOT}\\venvs\\old999\\Scripts\\python.exe`
    const oldWfc = `${ROOT}\\venvs\\old999\\Lib\\site-packages\\wfastcgi.py`
    now.fastCgi = [
      { fullPath: oldPy, arguments: oldWfc, env: now.fastCgi[0].env },
      { fullPath: 'C:\\PHP\\php-cgi.exe', arguments: '', env: [] },
      // Same prefix text but a sibling folder: not ours.
      { fullPath: `${ROOT}\\venvs-other\\python.exe`, arguments: 'x', env: [] }
    ]
    now.app.physicalPath = `${ROOT}\\releases\\r1`
    now.vdirs[0].physicalPath = `${ROOT}\\releases\\r1\\static`
    const plan = planChanges(now, d)
    const ops = appcmdWrites(now, d)
    expect(ops.map(o => o.argv.slice(0, 4).join(' '))).toEqual([
      `set config -section:system.webServer/fastCgi /+${KEY}`,
      ...d.fastCgi!.env.map(
        v => `set config -section:system.webServer/fastCgi /+${KEY}.environmentVariables.[name='${v.name}',value='${v.value}']`
      ),
      `set vdir Default Web Site/app/ /physicalPath:${ROOT}\\releases\\r2`,
      // The static folder follows the switch: until then the live release's pages link to its own files.
      `set vdir Default Web Site/app/static /physicalPath:${ROOT}\\releases\\r2\\static`,
      `set config -section:system.webServer/fastCgi /-[fullPath='${oldPy}',arguments='${oldWfc}']`,
      'recycle apppool /apppool.name:DefaultWebSite-app'
    ])
    expect(plan.switchOp?.argv[2]).toBe('Default Web Site/app/')
    expect(plan.objects.filter(o => o.kind === 'fastCgi').map(o => o.status)).toEqual(['created', 'removed'])
  })

  it('switches the root virtual directory last among writes when only the release changed', () => {
    const d = desired()
    const now = matching(d)
    now.app.physicalPath = `${ROOT}\\releases\\r1`
    const ops = appcmdWrites(now, d)
    expect(ops.map(o => o.argv.slice(0, 3).join(' '))).toEqual([
      'set vdir Default Web Site/app/',
      'recycle apppool /apppool.name:DefaultWebSite-app'
    ])
  })

  it('fixes the pool identity and runtime in one set, and re-pools the app', () => {
    const d = desired({ pool: { name: 'DefaultWebSite-app', identity: 'NetworkService', managedRuntimeVersion: '' } })
    const now = matching(d)
    now.pool = { exists: true, identity: 'ApplicationPoolIdentity', managedRuntimeVersion: 'v4.0' }
    now.app.pool = 'DefaultAppPool'
    expect(appcmdWrites(now, d).map(o => o.argv)).toEqual([
      ['set', 'apppool', '/apppool.name:DefaultWebSite-app', '/managedRuntimeVersion:', '/processModel.identityType:NetworkService'],
      ['set', 'app', 'Default Web Site/app', '/applicationPool:DefaultWebSite-app'],
      ['recycle', 'apppool', '/apppool.name:DefaultWebSite-app']
    ])
  })

  it('unlocks handlers at the app location only when not known to be unlocked', () => {
    const d = desired()
    const now = matching(d)
    now.handlersUnlocked = false
    expect(appcmdWrites(now, d).map(o => o.argv.join(' '))).toEqual([
      'unlock config Default Web Site/app -section:system.webServer/handlers /commit:apphost',
      'recycle apppool /apppool.name:DefaultWebSite-app'
    ])
  })

  it('moves the static vdir to where a changed STATIC_URL points: adds the new one, removes ours at the old path after the switch', () => {
    const d = desired({
      app: { site: 'Default Web Site', path: '/app', pool: 'DefaultWebSite-app', physicalPath: `${ROOT}\\releases\\r2` },
      staticLocation: { kind: 'vdir', urlPath: '/app/assets/css/', vdirPath: '/assets/css' },
      staticVdir: { path: '/assets/css', physicalPath: `${ROOT}\\releases\\r2\\static` }
    })
    const now = matching(d)
    now.app.physicalPath = `${ROOT}\\releases\\r1`
    now.vdirs = [
      { path: '/static', physicalPath: `${ROOT}\\releases\\r1\\static` },
      // Someone else's vdir of the app: not in our releases folder, so it stays.
      { path: '/media', physicalPath: 'D:\\uploads' }
    ]
    const plan = planChanges(now, d)
    expect(appcmdWrites(now, d).map(o => o.argv.join(' '))).toEqual([
      `add vdir /app.name:Default Web Site/app /path:/assets/css /physicalPath:${ROOT}\\releases\\r2\\static`,
      `set vdir Default Web Site/app/ /physicalPath:${ROOT}\\releases\\r2`,
      // Until the switch the live release's pages still link /app/static/.
      'delete vdir Default Web Site/app/static',
      'recycle apppool /apppool.name:DefaultWebSite-app'
    ])
    expect(plan.objects.filter(o => o.kind === 'vdir')).toEqual([
      { kind: 'vdir', name: 'Default Web Site/app/assets/css', status: 'created' },
      { kind: 'vdir', name: 'Default Web Site/app/static', status: 'removed' }
    ])
  })

  it('with the static files served elsewhere makes no static vdir and removes ours', () => {
    const d = desired({ staticLocation: { kind: 'elsewhere', url: 'https://cdn.example.org/static/' }, staticVdir: undefined })
    const now = matching(d)
    now.vdirs = [{ path: '/static', physicalPath: `${ROOT}\\releases\\r2\\static` }]
    expect(appcmdWrites(now, d).map(o => o.argv.join(' '))).toEqual([
      'delete vdir Default Web Site/app/static',
      'recycle apppool /apppool.name:DefaultWebSite-app'
    ])
    now.vdirs = []
    expect(appcmdWrites(now, d)).toEqual([])
  })

  it('uses site-root identifiers for an app at /', () => {
    const d = desired({ app: { site: 'S', path: '/', pool: 'S', physicalPath: 'C:\\r\\releases\\2' } })
    const now = matching(d)
    now.app.physicalPath = 'C:\\r\\releases\\1'
    now.vdirs = []
    expect(appcmdWrites(now, d).map(o => o.argv.slice(0, 4).join(' '))).toEqual([
      `add vdir /app.name:S/ /path:/static`,
      'set vdir S/ /physicalPath:C:\\r\\releases\\2',
      'recycle apppool /apppool.name:DefaultWebSite-app'
    ])
  })

  it('for httpplatform hosting removes our FastCGI apps and sets secrets location-scoped', () => {
    const d = desired({
      hosting: 'httpplatform',
      fastCgi: undefined,
      httpPlatformSecretEnv: [{ name: 'API_TOKEN', value: 'new-secret', secret: true }]
    })
    const now = matching(d)
    expect(now.fastCgi).toEqual([])
    now.fastCgi = [{ fullPath: PY, arguments: WFC, env: [] }]
    now.httpPlatformEnv = [
      { name: 'API_TOKEN', value: 'old-secret' },
      { name: 'GONE', value: 'x' }
    ]
    const ops = appcmdWrites(now, d)
    expect(ops.map(o => o.argv)).toEqual([
      [
        'set',
        'config',
        'Default Web Site/app',
        '-section:system.webServer/httpPlatform',
        "/environmentVariables.[name='API_TOKEN'].value:new-secret",
        '/commit:apphost'
      ],
      [
        'set',
        'config',
        'Default Web Site/app',
        '-section:system.webServer/httpPlatform',
        "/-environmentVariables.[name='GONE']",
        '/commit:apphost'
      ],
      ['set', 'config', '-section:system.webServer/fastCgi', `/-${KEY}`, '/commit:apphost'],
      ['recycle', 'apppool', '/apppool.name:DefaultWebSite-app']
    ])
    expect(ops[0].secrets).toEqual(['new-secret'])
  })

  it.each([
    ['a quote', "it's"],
    ['a closing bracket', 'a]b'],
    ['a line break', 'a\nb']
  ])('refuses an indexer value with %s before planning anything', (_what, value) => {
    const d = desired()
    d.fastCgi!.env.push({ name: 'BAD', value, secret: false })
    expect(() => appcmdWrites(undefined, d)).toThrow(IndexerValueError)
    expect(() => appcmdWrites(undefined, d)).toThrow(/BAD/)
  })

  it('refuses a release path appcmd cannot carry in an indexer key', () => {
    const d = desired()
    d.fastCgi!.fullPath = "C:\\it's\\python.exe"
    expect(() => appcmdWrites(undefined, d)).toThrow(IndexerValueError)
  })
})

describe('the backup step', () => {
  const plan = (restorePoint?: string) =>
    buildPlan({
      deployRoot: ROOT,
      desired: desired(),
      current: undefined,
      grants: { operations: [], pending: [] },
      releaseId: 'r2',
      keepBackups: 5,
      now: new Date(0),
      spConfig: [{ tool: 'shibboleth', argv: ['write', 'shibboleth2.xml'], why: 'the SP config', mutates: true }],
      ...(restorePoint ? { restorePoint } : {})
    })

  it('comes after the SP config, named from the plan, without a restore point', () => {
    const steps = plan().steps
    expect(steps.slice(0, 2).map(s => s.phase)).toEqual(['sp-config', 'backup'])
    expect(steps[1]?.argv).toEqual(['add', 'backup', 'django-iis-deploy-r2-19700101T000000000Z'])
  })

  it('comes first and names the restore point taken beside the release check', () => {
    const steps = plan('django-iis-deploy-r2-20261202T100000000Z').steps
    expect(steps.slice(0, 2).map(s => s.phase)).toEqual(['backup', 'sp-config'])
    expect(steps[0]).toMatchObject({
      argv: ['add', 'backup', 'django-iis-deploy-r2-20261202T100000000Z'],
      why: expect.stringContaining('taken while')
    })
    expect(steps.filter(s => s.phase === 'backup')).toHaveLength(1)
  })

  it('prunes old backups by their folders where the input found them, and through appcmd where it did not', () => {
    const old = ['django-iis-deploy-r0-19690101T000000000Z', 'django-iis-deploy-r1-19691231T000000000Z']
    const steps = buildPlan({
      deployRoot: ROOT,
      desired: desired(),
      current: undefined,
      grants: { operations: [], pending: [] },
      releaseId: 'r2',
      keepBackups: 1,
      knownBackups: old,
      backupFolders: new Map([[old[1], `/inetsrv/backup/${old[1]}`]]),
      now: new Date(0)
    }).steps.filter(s => s.phase === 'prune-backups')
    expect(steps.map(s => [s.tool, ...s.argv, s.bestEffort])).toEqual([
      ['file', 'delete', `/inetsrv/backup/${old[1]}`, true],
      ['appcmd', 'delete', 'backup', old[0], true]
    ])
  })

  it('is left out with the restore point when IIS needs no write', () => {
    const d = desired()
    const steps = buildPlan({
      deployRoot: ROOT,
      desired: d,
      current: matching(d),
      grants: { operations: [], pending: [] },
      releaseId: 'r2',
      keepBackups: 5,
      now: new Date(0),
      restorePoint: 'django-iis-deploy-r2-20261202T100000000Z'
    }).steps
    expect(steps).toEqual([])
  })
})
