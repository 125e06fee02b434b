import type { EnvVar } from '../config.js'
import { indexer, plainValue } from '../iis/appcmd.js'
import type { CurrentState, FastCgiApp, NameValue } from '../iis/state.js'
import { authOps } from './auth-ops.js'
import { identityArgs, identityChange } from './identity-ops.js'
import type { DesiredState, Operation } from './types.js'
import { warmUpAppOps, warmUpPoolArgs } from './warm-up-ops.js'
import { appId, locationPath, rootVdirId, sameName, vdirId } from '../iis/app-location.js'
import { insideFolder, samePath } from '../windows-path.js'

export type ObjectStatus = 'created' | 'changed' | 'unchanged' | 'removed'

export interface ObjectChange {
  kind: 'apppool' | 'app' | 'handlers' | 'anonymousAuth' | 'windowsAuth' | 'vdir' | 'fastCgi' | 'envVar' | 'httpPlatformEnv' | 'warmUp'
  name: string
  status: ObjectStatus
}

/**
 * The changes split where the plan (src/plan/build.ts) places other steps: `pool`, then the ACL grants, then
 * `beforeSwitch`, `switchOp` and `afterSwitch` (the static vdir move, stale FastCGI removal), then the recycle.
 * Stale FastCGI applications are removed only after the switch: until then the live release's handler still
 * points at them, and removing one first would turn every request into a 500 for the length of the deploy.
 */
export interface ChangePlan {
  /** The app pool first: ACLs name `IIS AppPool\<pool>`, which Windows only resolves once the pool exists. */
  pool: Operation[]
  beforeSwitch: Operation[]
  switchOp?: Operation
  afterSwitch: Operation[]
  objects: ObjectChange[]
}

const FASTCGI = '-section:system.webServer/fastCgi'
const HTTP_PLATFORM = '-section:system.webServer/httpPlatform'
export const ANONYMOUS_SECTION = '-section:system.webServer/security/authentication/anonymousAuthentication'
const COMMIT = '/commit:apphost'

function op(argv: string[], why: string, secrets: string[] = []): Operation {
  return secrets.length > 0 ? { tool: 'appcmd', argv, why, mutates: true, secrets } : { tool: 'appcmd', argv, why, mutates: true }
}

function fastCgiKey(app: { fullPath: string; arguments: string }): string {
  return indexer([
    ['fullPath', app.fullPath],
    ['arguments', app.arguments]
  ])
}

const secretsOf = (v: EnvVar): string[] => (v.secret ? [v.value] : [])

/** add missing, set changed, remove stale: the variables of one collection, addressed by `prefix`. */
function envOps(
  prefix: string,
  context: (change: string) => string[],
  current: NameValue[],
  desired: EnvVar[],
  owner: string,
  kind: ObjectChange['kind'],
  objects: ObjectChange[]
): Operation[] {
  const ops: Operation[] = []
  for (const v of desired) {
    const now = current.find(c => sameName(c.name, v.name))
    const shownValue = v.secret ? 'a secret value' : `'${v.value}'`
    if (!now) {
      ops.push(
        op(
          context(
            `/+${prefix}${indexer(
              [
                ['name', v.name],
                ['value', v.value]
              ],
              v.name
            )}`
          ),
          `${owner}: add ${v.name} = ${shownValue}`,
          secretsOf(v)
        )
      )
      objects.push({ kind, name: v.name, status: 'created' })
    } else if (now.value !== v.value) {
      const set = `/${prefix}${indexer([['name', v.name]], v.name)}.value:${plainValue(v.name, v.value)}`
      ops.push(op(context(set), `${owner}: ${v.name} changes to ${shownValue}`, secretsOf(v)))
      objects.push({ kind, name: v.name, status: 'changed' })
    } else {
      objects.push({ kind, name: v.name, status: 'unchanged' })
    }
  }
  for (const c of current) {
    if (desired.some(v => sameName(v.name, c.name))) continue
    ops.push(op(context(`/-${prefix}${indexer([['name', c.name]])}`), `${owner}: ${c.name} is no longer configured`))
    objects.push({ kind, name: c.name, status: 'removed' })
  }
  return ops
}

function ownedBy(desired: DesiredState, app: FastCgiApp): boolean {
  return insideFolder(desired.ownedPrefix, app.fullPath)
}

/** A fresh server as the diff sees it: nothing of ours exists yet, handlers still locked. */
export function freshState(desired: DesiredState): CurrentState {
  return {
    pool: { exists: false },
    site: { exists: true, id: 0, bindings: [] },
    app: { exists: false },
    vdirs: [],
    fastCgi: [],
    handlersUnlocked: false,
    anonymousAsPool: false,
    httpPlatformEnv: desired.hosting === 'httpplatform' ? [] : undefined
  }
}

/** Pure: the operations (and object statuses) that bring `current` to `desired`, in dependency order. */
export function planChanges(current: CurrentState | undefined, desired: DesiredState): ChangePlan {
  const now = current ?? freshState(desired)
  const objects: ObjectChange[] = []
  const poolOps: Operation[] = []
  const before: Operation[] = []
  const after: Operation[] = []
  let switchOp: Operation | undefined
  const pool = desired.pool
  const app = appId(desired.app)
  const location = locationPath(desired.app)
  const warmUpPool = warmUpPoolArgs(now, desired)

  // Application pool: No Managed Code ('' runtime), the configured identity, startMode for warm-up.
  if (!now.pool.exists) {
    const identity = identityArgs(pool)
    poolOps.push(
      op(
        [
          'add',
          'apppool',
          `/name:${pool.name}`,
          `/managedRuntimeVersion:${pool.managedRuntimeVersion}`,
          ...identity.args,
          ...warmUpPool.args
        ],
        `app pool ${pool.name} does not exist`,
        identity.secrets
      )
    )
    objects.push({ kind: 'apppool', name: pool.name, status: 'created' })
  } else {
    const sets: string[] = []
    const why: string[] = []
    if ((now.pool.managedRuntimeVersion ?? '') !== pool.managedRuntimeVersion) {
      sets.push(`/managedRuntimeVersion:${pool.managedRuntimeVersion}`)
      why.push(`runtime '${now.pool.managedRuntimeVersion ?? ''}' → No Managed Code`)
    }
    const identity = identityChange(now, pool)
    if (identity) sets.push(...identity.args)
    if (identity) why.push(identity.why)
    if (warmUpPool.args.length > 0) sets.push(...warmUpPool.args)
    if (warmUpPool.args.length > 0) why.push(warmUpPool.why)
    if (sets.length > 0)
      poolOps.push(
        op(['set', 'apppool', `/apppool.name:${pool.name}`, ...sets], `app pool ${pool.name}: ${why.join(', ')}`, identity?.secrets)
      )
    objects.push({ kind: 'apppool', name: pool.name, status: sets.length > 0 ? 'changed' : 'unchanged' })
  }

  // Application: created already pointing at the release (nothing serves it yet), else re-pooled if needed.
  let appChanged = false
  if (!now.app.exists) {
    before.push(
      op(
        [
          'add',
          'app',
          `/site.name:${desired.app.site}`,
          `/path:${desired.app.path}`,
          `/physicalPath:${plainValue('physicalPath', desired.app.physicalPath)}`,
          `/applicationPool:${pool.name}`
        ],
        `application ${app} does not exist`
      )
    )
    objects.push({ kind: 'app', name: app, status: 'created' })
  } else {
    if (!sameName(now.app.pool, pool.name)) {
      before.push(
        op(
          ['set', 'app', app, `/applicationPool:${pool.name}`],
          `application ${app} runs in pool '${now.app.pool ?? ''}', not ${pool.name}`
        )
      )
      appChanged = true
    }
    if (now.app.physicalPath === undefined || !samePath(now.app.physicalPath, desired.app.physicalPath)) {
      const argv =
        now.app.physicalPath === undefined
          ? ['add', 'vdir', `/app.name:${app}`, '/path:/', `/physicalPath:${plainValue('physicalPath', desired.app.physicalPath)}`]
          : ['set', 'vdir', rootVdirId(desired.app), `/physicalPath:${plainValue('physicalPath', desired.app.physicalPath)}`]
      switchOp = op(argv, `switch ${app} from ${now.app.physicalPath ?? 'nothing'} to the new release`)
      appChanged = true
    }
    objects.push({ kind: 'app', name: app, status: appChanged ? 'changed' : 'unchanged' })
  }
  before.push(...warmUpAppOps(now, desired, objects))

  // Handlers unlocked at the app's location only, so web.config may declare them (else 500.19).
  if (!now.handlersUnlocked) {
    before.push(
      op(['unlock', 'config', location, '-section:system.webServer/handlers', COMMIT], `let ${location}'s web.config declare handlers`)
    )
    objects.push({ kind: 'handlers', name: location, status: 'changed' })
  } else {
    objects.push({ kind: 'handlers', name: location, status: 'unchanged' })
  }

  // Anonymous requests read files as the pool identity, the one principal the deploy grants access to
  // (IIS's default is IUSR). An empty userName means "the pool identity"; --password drops a stored one.
  if (desired.anonymousAsPool && !now.anonymousAsPool) {
    before.push(
      op(
        ['set', 'config', location, ANONYMOUS_SECTION, '/userName:', '--password', COMMIT],
        `anonymous requests to ${location} read files as ${pool.name}, which the deploy grants access`
      )
    )
    objects.push({ kind: 'anonymousAuth', name: location, status: 'changed' })
  } else if (desired.anonymousAsPool) {
    objects.push({ kind: 'anonymousAuth', name: location, status: 'unchanged' })
  }

  before.push(...authOps(now, desired, objects))

  // Static files of the release, served by IIS itself at the path STATIC_URL makes pages link (static-location.ts).
  const wantedStatic = desired.staticVdir
  if (wantedStatic) {
    const staticId = vdirId(desired.app, wantedStatic.path)
    const staticPath = plainValue('physicalPath', wantedStatic.physicalPath)
    const existing = now.vdirs.find(v => sameName(v.path, wantedStatic.path))
    if (!existing) {
      before.push(
        op(
          ['add', 'vdir', `/app.name:${app}`, `/path:${wantedStatic.path}`, `/physicalPath:${staticPath}`],
          `static folder ${staticId} does not exist`
        )
      )
      objects.push({ kind: 'vdir', name: staticId, status: 'created' })
    } else if (!samePath(existing.physicalPath, wantedStatic.physicalPath)) {
      // Right after the switch: until then the live release's pages link to the static files it collected.
      after.push(op(['set', 'vdir', staticId, `/physicalPath:${staticPath}`], `static folder moves to the new release`))
      objects.push({ kind: 'vdir', name: staticId, status: 'changed' })
    } else {
      objects.push({ kind: 'vdir', name: staticId, status: 'unchanged' })
    }
  }
  // A static vdir of ours elsewhere (STATIC_URL changed, or the files are now served elsewhere) goes after the
  // switch, for the same reason; vdirs serving anything outside our releases are someone else's and stay.
  for (const stale of now.vdirs) {
    if (wantedStatic && sameName(stale.path, wantedStatic.path)) continue
    if (!insideFolder(desired.ownedStaticPrefix, stale.physicalPath)) continue
    const staleId = vdirId(desired.app, stale.path)
    after.push(op(['delete', 'vdir', staleId], `static folder ${staleId} is no longer where STATIC_URL points`))
    objects.push({ kind: 'vdir', name: staleId, status: 'removed' })
  }

  // FastCGI application keyed by fullPath + arguments, with its variables.
  const wanted = desired.hosting === 'fastcgi' ? desired.fastCgi : undefined
  if (wanted) {
    const key = fastCgiKey(wanted)
    const existing = now.fastCgi.find(a => sameName(a.fullPath, wanted.fullPath) && sameName(a.arguments, wanted.arguments))
    const config = (change: string): string[] => ['set', 'config', FASTCGI, change, COMMIT]
    if (!existing) {
      before.push(op(config(`/+${key}`), `register FastCGI ${wanted.fullPath}|${wanted.arguments}`))
      objects.push({ kind: 'fastCgi', name: `${wanted.fullPath}|${wanted.arguments}`, status: 'created' })
    }
    const envBefore = objects.length
    before.push(...envOps(`${key}.environmentVariables.`, config, existing?.env ?? [], wanted.env, 'FastCGI', 'envVar', objects))
    if (existing) {
      const envChanged = objects.slice(envBefore).some(o => o.status !== 'unchanged')
      objects.push({ kind: 'fastCgi', name: `${wanted.fullPath}|${wanted.arguments}`, status: envChanged ? 'changed' : 'unchanged' })
    }
  }
  for (const stale of now.fastCgi) {
    if (!ownedBy(desired, stale)) continue
    if (wanted && sameName(stale.fullPath, wanted.fullPath) && sameName(stale.arguments, wanted.arguments)) continue
    after.push(op(['set', 'config', FASTCGI, `/-${fastCgiKey(stale)}`, COMMIT], `FastCGI ${stale.fullPath} belongs to an earlier venv`))
    objects.push({ kind: 'fastCgi', name: `${stale.fullPath}|${stale.arguments}`, status: 'removed' })
  }

  // HttpPlatformHandler: secrets live location-scoped in applicationHost.config, never in web.config.
  // Back on fastcgi, the ones set for httpplatform go (envOps removes what is not desired).
  if (desired.hosting === 'httpplatform' || (now.httpPlatformEnv ?? []).length > 0) {
    const config = (change: string): string[] => ['set', 'config', location, HTTP_PLATFORM, change, COMMIT]
    const wantedEnv = desired.hosting === 'httpplatform' ? desired.httpPlatformSecretEnv : []
    before.push(
      ...envOps('environmentVariables.', config, now.httpPlatformEnv ?? [], wantedEnv, 'httpPlatform', 'httpPlatformEnv', objects)
    )
  }

  return { pool: poolOps, beforeSwitch: before, switchOp, afterSwitch: after, objects }
}
