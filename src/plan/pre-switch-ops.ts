/**
 * The temporary site that serves the new release through IIS before the switch (docs/pre-switch.md): bound to
 * 127.0.0.1 and a free port, holding the app at the same app path in the same pool, with the same location
 * settings and static folder, so verify meets the release as the pool identity will after the switch.
 */
import { createHash } from 'node:crypto'
import { appId, locationPath, sameName, type AppLocation } from '../iis/app-location.js'
import { plainValue } from '../iis/appcmd.js'
import type { CurrentState } from '../iis/state.js'
import { planChanges } from './diff.js'
import type { DesiredState, Operation } from './types.js'

/** Every temporary site starts so: recovery and an administrator can tell ours from anyone's. */
export const PRE_SWITCH_PREFIX = 'diis-preswitch-'

/** Where the temporary site is: its name, its loopback port and the empty folder its root serves (app below /). */
export interface PreSwitchSite {
  name: string
  port: number
  /** The root app's folder when the app is below the site root: empty, so the root serves nothing. */
  rootPath: string
}

/** One name per target: a killed run's leftover is the same object the next run's recovery deletes. */
export function preSwitchSiteName(target: AppLocation): string {
  const hash = createHash('sha256').update(`${target.site.toLowerCase()}|${target.path.toLowerCase()}`).digest('hex')
  return `${PRE_SWITCH_PREFIX}${hash.slice(0, 10)}`
}

/** Whether an appcmd argv names a temporary site of ours (by the prefix, as a site name or in a location path). */
export function namesPreSwitchSite(argv: readonly string[]): boolean {
  const prefix = PRE_SWITCH_PREFIX.toLowerCase()
  return argv.some(arg => {
    const a = arg.toLowerCase()
    return a.startsWith(prefix) || a.includes(`:${prefix}`)
  })
}

/** The URL the pre-switch checks use in place of the live one: same path, the temporary site's origin. */
export function preSwitchOrigin(site: PreSwitchSite): string {
  return `http://127.0.0.1:${site.port}`
}

const op = (argv: string[], why: string): Operation => ({ tool: 'appcmd', argv, why, mutates: true })

/**
 * The writes that create the temporary site, then the check, then its removal. The location settings (handlers
 * unlock, anonymous user, authentication, httpPlatform variables) and the static vdir come from the same diff the
 * live app gets, aimed at the temporary site: what differs from the live app is only the site. The pool and the
 * FastCGI registration are server-wide and already as the switch needs them (before-switch), so none is written.
 */
export function preSwitchOps(
  desired: DesiredState,
  current: CurrentState,
  site: PreSwitchSite,
  checkUrl: string
): { create: Operation[]; check: Operation; remove: Operation[] } {
  const app: AppLocation = { site: site.name, path: desired.app.path }
  const atRoot = desired.app.path === '/'
  const pool = desired.pool.name
  // The site with its root app in the deploy's pool (applicationDefaults) in one call: for a root app that is
  // the app itself, serving the release; otherwise an empty root below which the app is added.
  const create: Operation[] = [
    op(
      [
        'add',
        'site',
        `/name:${site.name}`,
        `/bindings:http/127.0.0.1:${site.port}:`,
        `/physicalPath:${plainValue('physicalPath', atRoot ? desired.app.physicalPath : site.rootPath)}`,
        `/applicationDefaults.applicationPool:${pool}`
      ],
      `a temporary site on 127.0.0.1:${site.port} serves the new release through IIS before the switch`
    )
  ]
  const temp: DesiredState = { ...desired, app: { ...desired.app, site: site.name }, warmUp: false }
  const before: CurrentState = {
    ...current,
    site: { exists: true, id: 0, bindings: [] },
    app: atRoot ? { exists: true, pool, physicalPath: desired.app.physicalPath } : { exists: false },
    vdirs: [],
    // Registered by now (before-switch): the diff must not write it again for the temporary app.
    fastCgi: desired.fastCgi ? [{ ...desired.fastCgi, env: desired.fastCgi.env.map(v => ({ name: v.name, value: v.value })) }] : [],
    handlersUnlocked: false,
    anonymousAsPool: false,
    httpPlatformEnv: desired.hosting === 'httpplatform' ? [] : undefined,
    windowsAuth: undefined,
    warmUp: undefined
  }
  const changes = planChanges(before, temp)
  create.push(...changes.beforeSwitch.filter(o => namesPreSwitchSite(o.argv) && !isFastCgi(o)))
  // FastCGI processes belong to the pool's worker process and are shared by every app whose handler names the same
  // fullPath|arguments, and wfastcgi loads the handler of the first request's app only (docs/windows-facts.md,
  // fcgi-one-registration): an idle process holding the live release would answer the check. A recycle starts a
  // worker with none, so the check's request starts one from the new release. HttpPlatformHandler starts a process
  // per application (hp-process-per-app): the temporary app gets its own, no recycle needed.
  if (desired.hosting === 'fastcgi') create.push(recycleOp(pool))
  const check: Operation = {
    tool: 'verify',
    argv: ['GET', checkUrl],
    why: `verify the new release at ${checkUrl} (${appId(app)}) before the switch; the switch happens only when it passes`,
    mutates: false
  }
  // Deleting the site deletes its apps and vdirs; its <location> entries stay, as after `delete app`, and are the
  // same ones the next run writes again under the same name (docs/windows-facts.md, ac-delete-site).
  const remove = [op(['delete', 'site', site.name], `remove the temporary site ${site.name} (${locationPath(app)})`)]
  return { create, check, remove }
}

function recycleOp(pool: string): Operation {
  return op(
    ['recycle', 'apppool', `/apppool.name:${pool}`],
    `drop ${pool}'s FastCGI processes, which hold the live release, so the check's request starts one on the new release`
  )
}

function isFastCgi(o: Operation): boolean {
  return o.argv.some(a => sameName(a, '-section:system.webServer/fastCgi'))
}
