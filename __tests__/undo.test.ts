import { describe, expect, it } from 'vitest'
import { buildPlan } from '../src/plan/build.js'
import type { CurrentState } from '../src/iis/state.js'
import type { DesiredState } from '../src/plan/types.js'
import { poolsToRecycle, undoPlan } from '../src/iis/undo.js'

const ROOT = 'C:\\inetpub\\django\\hello'
const venv = (hash: string) => ({
  fullPath: `${ROOT}\\venvs\\${hash}\\Scripts\\python.exe`,
  arguments: `${ROOT}\\venvs\\${hash}\\Lib\\site-packages\\wfastcgi.py`
})
const key = (hash: string) => `[fullPath='${venv(hash).fullPath}',arguments='${venv(hash).arguments}']`

function desired(release: string, hash: string, token: string): DesiredState {
  return {
    hosting: 'fastcgi',
    pool: { name: 'DefaultWebSite-app', identity: 'ApplicationPoolIdentity', managedRuntimeVersion: '' },
    app: { site: 'Default Web Site', path: '/app', pool: 'DefaultWebSite-app', physicalPath: `${ROOT}\\releases\\${release}` },
    staticLocation: { kind: 'vdir', urlPath: '/app/static/', vdirPath: '/static' },
    staticVdir: { path: '/static', physicalPath: `${ROOT}\\releases\\${release}\\static` },
    ownedStaticPrefix: `${ROOT}\\releases`,
    fastCgi: {
      ...venv(hash),
      env: [
        { name: 'DJANGO_SETTINGS_MODULE', value: 'hello.settings', secret: false },
        { name: 'API_TOKEN', value: token, secret: true }
      ]
    },
    httpPlatformSecretEnv: [],
    anonymousAsPool: true,
    ownedPrefix: `${ROOT}\\venvs`,
    acl: []
  }
}

/** IIS right after `d` was applied. */
function applied(d: DesiredState): CurrentState {
  return {
    pool: { exists: true, identity: d.pool.identity, managedRuntimeVersion: '' },
    site: { exists: true, id: 1, bindings: [] },
    app: { exists: true, pool: d.pool.name, physicalPath: d.app.physicalPath },
    vdirs: d.staticVdir ? [{ path: d.staticVdir.path, physicalPath: d.staticVdir.physicalPath }] : [],
    fastCgi: [{ ...venv('v1'), env: d.fastCgi!.env.map(({ name, value }) => ({ name, value })) }],
    handlersUnlocked: true,
    anonymousAsPool: true
  }
}

const FRESH: CurrentState = {
  pool: { exists: false },
  site: { exists: true, id: 1, bindings: [] },
  app: { exists: false },
  vdirs: [],
  fastCgi: [],
  handlersUnlocked: false,
  anonymousAsPool: false
}

/** Every step of the plan from `before` to `d`, in the order a deploy runs them. */
const planned = (before: CurrentState, d: DesiredState) =>
  buildPlan({
    deployRoot: ROOT,
    desired: d,
    current: before,
    grants: { operations: [], pending: [] },
    releaseId: 'r',
    keepBackups: 5,
    now: new Date(0)
  }).steps

const argvOf = (plan: ReturnType<typeof undoPlan>) => ('ops' in plan ? plan.ops.map(o => o.argv.join(' ')) : plan.missing)

describe('undoPlan: the inverse of each write, newest first', () => {
  it('a first deploy is undone by removing what it added; the unlock and anonymous settings of the gone app stay', () => {
    const d = desired('r1', 'v1', 'tok-1')
    const plan = undoPlan(planned(FRESH, d), FRESH, d)
    expect(argvOf(plan)).toEqual([
      `set config -section:system.webServer/fastCgi /-${key('v1')}.environmentVariables.[name='API_TOKEN'] /commit:apphost`,
      `set config -section:system.webServer/fastCgi /-${key('v1')}.environmentVariables.[name='DJANGO_SETTINGS_MODULE'] /commit:apphost`,
      `set config -section:system.webServer/fastCgi /-${key('v1')} /commit:apphost`,
      'delete vdir Default Web Site/app/static',
      'delete app Default Web Site/app',
      'delete apppool /apppool.name:DefaultWebSite-app'
    ])
  })

  it('an upgrade is undone by setting back what it changed, and re-registering the FastCGI app it removed', () => {
    const d1 = desired('r1', 'v1', 'tok-1')
    const before = applied(d1)
    const d2 = desired('r2', 'v2', 'tok-2')
    const plan = undoPlan(planned(before, d2), before, d2)
    expect(argvOf(plan)).toEqual([
      `set config -section:system.webServer/fastCgi /+${key('v1')} /commit:apphost`,
      `set config -section:system.webServer/fastCgi /+${key('v1')}.environmentVariables.[name='DJANGO_SETTINGS_MODULE',value='hello.settings'] /commit:apphost`,
      `set config -section:system.webServer/fastCgi /+${key('v1')}.environmentVariables.[name='API_TOKEN',value='tok-1'] /commit:apphost`,
      `set vdir Default Web Site/app/static /physicalPath:${ROOT}\\releases\\r1\\static`,
      `set vdir Default Web Site/app/ /physicalPath:${ROOT}\\releases\\r1`,
      `set config -section:system.webServer/fastCgi /-${key('v2')}.environmentVariables.[name='API_TOKEN'] /commit:apphost`,
      `set config -section:system.webServer/fastCgi /-${key('v2')}.environmentVariables.[name='DJANGO_SETTINGS_MODULE'] /commit:apphost`,
      `set config -section:system.webServer/fastCgi /-${key('v2')} /commit:apphost`
    ])
    // A value read back from IIS is masked wherever the inverse is shown.
    const readd = 'ops' in plan ? plan.ops.find(o => o.argv[3].includes("value='tok-1'")) : undefined
    expect(readd?.secrets).toEqual(['tok-1'])
  })

  it('a static vdir moved by a changed STATIC_URL is deleted at its new path and added back at the old one', () => {
    const d1 = desired('r1', 'v1', 'tok-1')
    const before = applied(d1)
    const d2: DesiredState = {
      ...desired('r2', 'v1', 'tok-1'),
      staticLocation: { kind: 'vdir', urlPath: '/app/assets/', vdirPath: '/assets' },
      staticVdir: { path: '/assets', physicalPath: `${ROOT}\\releases\\r2\\static` }
    }
    const ops = argvOf(undoPlan(planned(before, d2), before, d2))
    expect(ops).toContain(`add vdir /app.name:Default Web Site/app /path:/static /physicalPath:${ROOT}\\releases\\r1\\static`)
    expect(ops).toContain('delete vdir Default Web Site/app/assets')
    expect(ops.indexOf(`add vdir /app.name:Default Web Site/app /path:/static /physicalPath:${ROOT}\\releases\\r1\\static`)).toBeLessThan(
      ops.indexOf('delete vdir Default Web Site/app/assets')
    )
  })

  it('a changed variable is set back to its old value, masked', () => {
    const d1 = desired('r1', 'v1', 'tok-1')
    const before = applied(d1)
    const d2 = { ...desired('r1', 'v1', 'rotated-2') }
    const plan = undoPlan(planned(before, d2), before, d2)
    expect('ops' in plan && plan.ops.map(o => [o.argv[3], o.secrets])).toEqual([
      [`/${key('v1')}.environmentVariables.[name='API_TOKEN'].value:tok-1`, ['tok-1']]
    ])
  })

  it("leaves a pruned old backup deleted, so pruning never forces this run's backup to be restored", () => {
    const d = desired('r2', 'v1', 'tok-1')
    const prune = {
      tool: 'appcmd' as const,
      argv: ['delete', 'backup', 'django-iis-deploy-r0-20260101T000000000Z'],
      why: 'prune',
      mutates: true
    }
    expect(undoPlan([prune], applied(d), d)).toEqual({ ops: [] })
  })

  it('has no inverse for an app that ran in the site default pool, nor for the anonymous user of an existing app', () => {
    const d = desired('r1', 'v1', 'tok-1')
    const inDefault: CurrentState = { ...applied(d), app: { exists: true, pool: '', physicalPath: d.app.physicalPath } }
    expect(undoPlan(planned(inDefault, d), inDefault, d)).toEqual({
      missing: expect.stringMatching(/no applicationPool of its own/)
    })
    const anonymousKept: CurrentState = { ...applied(d), anonymousAsPool: false }
    expect(undoPlan(planned(anonymousKept, d), anonymousKept, d)).toEqual({
      missing: expect.stringMatching(/no inverse for anonymous requests/)
    })
  })
})

describe('undoPlan for httpPlatform variables at the app location', () => {
  it('removes what was added, sets back what changed and adds back what was removed, each old value masked', () => {
    const d: DesiredState = {
      ...desired('r2', 'v1', 'tok'),
      hosting: 'httpplatform',
      fastCgi: undefined,
      httpPlatformSecretEnv: [
        { name: 'NEW_KEY', value: 'n-1', secret: true },
        { name: 'DB_PASSWORD', value: 'pw-2', secret: true }
      ]
    }
    const before: CurrentState = {
      ...applied(desired('r1', 'v1', 'tok')),
      fastCgi: [],
      httpPlatformEnv: [
        { name: 'DB_PASSWORD', value: 'pw-1' },
        { name: 'OLD_KEY', value: 'o-1' }
      ]
    }
    const plan = undoPlan(planned(before, d), before, d)
    // An old value appcmd cannot carry in an indexer has no inverse: the rollback falls back to the backup.
    const quoted: CurrentState = { ...before, httpPlatformEnv: [{ name: 'OLD_KEY', value: "it's" }] }
    expect(undoPlan(planned(quoted, d), quoted, d)).toEqual({ missing: expect.stringMatching(/OLD_KEY/) })
    const section = 'set config Default Web Site/app -section:system.webServer/httpPlatform'
    expect(
      'ops' in plan &&
        plan.ops.filter(o => o.argv.includes('-section:system.webServer/httpPlatform')).map(o => [o.argv.join(' '), o.secrets])
    ).toEqual([
      [`${section} /+environmentVariables.[name='OLD_KEY',value='o-1'] /commit:apphost`, ['o-1']],
      [`${section} /environmentVariables.[name='DB_PASSWORD'].value:pw-1 /commit:apphost`, ['pw-1']],
      [`${section} /-environmentVariables.[name='NEW_KEY'] /commit:apphost`, undefined]
    ])
  })
})

describe('poolsToRecycle', () => {
  it("recycles the app's pool before the run and the deploy's pool, never a pool this run created", () => {
    const d = desired('r2', 'v1', 'tok')
    expect(poolsToRecycle(applied(d), d)).toEqual(['DefaultWebSite-app'])
    expect(poolsToRecycle(FRESH, d)).toEqual([])
    const elsewhere: CurrentState = { ...applied(d), app: { exists: true, pool: 'OldPool', physicalPath: 'x' } }
    expect(poolsToRecycle(elsewhere, d)).toEqual(['OldPool', 'DefaultWebSite-app'])
    expect(poolsToRecycle({ ...elsewhere, pool: { exists: false } }, d)).toEqual(['OldPool'])
  })
})
