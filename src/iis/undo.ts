import { ANONYMOUS_SECTION } from '../plan/diff.js'
import { namesPreSwitchSite } from '../plan/pre-switch-ops.js'
import { appId, rootVdirId, sameName, vdirId } from './app-location.js'
import type { DesiredState, Operation } from '../plan/types.js'
import { indexer, plainValue } from './appcmd.js'
import type { CurrentState, NameValue } from './state.js'

// The inverse of each appcmd write the diff (src/plan/diff.ts) makes, computed from the state read before the
// run. Rolling back this way touches only what this run changed: `restore backup` rewrites the whole server's
// configuration (other deploys' changes since the backup are lost) and, per Microsoft Learn ("Getting Started
// with AppCmd.exe"), stops the server while it restores (docs/iis-apply.md, "Rollback").

const FASTCGI = '-section:system.webServer/fastCgi'
const HTTP_PLATFORM = '-section:system.webServer/httpPlatform'
const COMMIT = '/commit:apphost'

/** Why an operation has no inverse: the rollback then falls back to the backup. */
export class NoInverse extends Error {}

function undoOp(argv: string[], of: Operation, secrets: string[] = []): Operation {
  const op: Operation = { tool: 'appcmd', argv, why: `undo: ${of.why}`, mutates: true }
  return secrets.length > 0 ? { ...op, secrets } : op
}

function option(argv: readonly string[], name: string): string | undefined {
  const prefix = `/${name.toLowerCase()}:`
  const arg = argv.find(a => a.toLowerCase().startsWith(prefix))
  return arg === undefined ? undefined : arg.slice(prefix.length)
}

/** `[name='N',value='V']` or `[name='N']`, then optionally `.value:V`: the variable's name and the kind of change. */
function parseEnvChange(rest: string): { name: string; set: boolean } | undefined {
  const m = /^\[name='([^']*)'(?:,value='[\s\S]*')?\](\.value:[\s\S]*)?$/.exec(rest)
  return m ? { name: m[1] ?? '', set: m[2] !== undefined } : undefined
}

/** The inverse of one change of a variable collection addressed by `prefix`, given the variables before. */
function envInverse(change: string, prefix: string, before: NameValue[]): { change: string; secrets: string[] } | undefined {
  const sign = change.startsWith('/+') ? '+' : change.startsWith('/-') ? '-' : ''
  const body = change.slice(sign === '' ? 1 : 2)
  if (!body.startsWith(prefix)) return undefined
  const parsed = parseEnvChange(body.slice(prefix.length))
  if (!parsed) return undefined
  const was = before.find(v => sameName(v.name, parsed.name))
  const at = `${prefix}${indexer([['name', parsed.name]])}`
  // A value read back from IIS may be another deploy's secret: mask it wherever the inverse is shown.
  if (sign === '+') return { change: `/-${at}`, secrets: [] }
  if (!was) throw new NoInverse(`${parsed.name} had no value before this run`)
  if (sign === '-')
    return {
      change: `/+${prefix}${indexer(
        [
          ['name', was.name],
          ['value', was.value]
        ],
        was.name
      )}`,
      secrets: [was.value]
    }
  if (!parsed.set) return undefined
  return { change: `/${at}.value:${plainValue(was.name, was.value)}`, secrets: [was.value] }
}

function fastCgiInverse(change: string, of: Operation, before: CurrentState, desired: DesiredState): Operation[] {
  const config = (c: string, secrets: string[] = []): Operation => undoOp(['set', 'config', FASTCGI, c, COMMIT], of, secrets)
  const apps = [...before.fastCgi, ...(desired.fastCgi ? [{ ...desired.fastCgi, env: [] }] : [])]
  for (const app of apps) {
    const key = indexer([
      ['fullPath', app.fullPath],
      ['arguments', app.arguments]
    ])
    if (change === `/+${key}`) return [config(`/-${key}`)]
    if (change === `/-${key}`) {
      // Re-register an application this run removed, with the variables it had: all the tool ever gave one.
      const was = before.fastCgi.find(a => sameName(a.fullPath, app.fullPath) && sameName(a.arguments, app.arguments))
      if (!was) throw new NoInverse(`FastCGI ${app.fullPath} was not registered before this run`)
      const env = was.env.map(v =>
        config(
          `/+${key}.environmentVariables.${indexer(
            [
              ['name', v.name],
              ['value', v.value]
            ],
            v.name
          )}`,
          [v.value]
        )
      )
      return [config(`/+${key}`), ...env]
    }
    const prefix = `${key}.environmentVariables.`
    const was = before.fastCgi.find(a => sameName(a.fullPath, app.fullPath) && sameName(a.arguments, app.arguments))
    const inverse = envInverse(change, prefix, was?.env ?? [])
    if (inverse) return [config(inverse.change, inverse.secrets)]
  }
  throw new NoInverse(`unknown FastCGI change ${change}`)
}

/** What undoes `op`, given the state before the run: [] when nothing needs undoing; throws NoInverse when unknown. */
export function inverseOf(op: Operation, before: CurrentState, desired: DesiredState): Operation[] {
  const [verb, object, ...rest] = op.argv
  const key = `${verb ?? ''} ${object ?? ''}`.toLowerCase()
  const app = appId(desired.app)
  // The temporary site of the pre-switch check: deleting it takes its apps and vdirs (docs/windows-facts.md,
  // ac-delete-site); its location entries stay, like an app's (ac-delete-app-location). It is never re-created.
  if (namesPreSwitchSite(op.argv)) return key === 'add site' ? [undoOp(['delete', 'site', option(rest, 'name') ?? ''], op)] : []
  switch (key) {
    case 'add backup':
    case 'recycle apppool':
      return []
    case 'delete backup':
      // An old backup of ours pruned after the switch: not configuration, and the rollback restores this run's own.
      return []
    case 'unlock config':
      // Left unlocked: only this app's web.config may then declare handlers, and the location record was reset,
      // so the next run unlocks again (a repeated unlock is harmless).
      return []
    case 'add apppool':
      return [undoOp(['delete', 'apppool', `/apppool.name:${option(rest, 'name') ?? ''}`], op)]
    case 'set apppool': {
      const sets: string[] = []
      if (option(rest, 'managedRuntimeVersion') !== undefined)
        sets.push(`/managedRuntimeVersion:${before.pool.managedRuntimeVersion ?? ''}`)
      if (option(rest, 'processModel.identityType') !== undefined)
        sets.push(`/processModel.identityType:${before.pool.identity ?? 'ApplicationPoolIdentity'}`)
      // An absent startMode is IIS's default, OnDemand (docs/windows-facts.md, ai-start-mode).
      if (option(rest, 'startMode') !== undefined) sets.push(`/startMode:${before.pool.startMode || 'OnDemand'}`)
      // The earlier password is never read back, and an empty one is not the same as none: the backup restores it.
      if (option(rest, 'processModel.userName') !== undefined)
        throw new NoInverse(`the earlier account settings of app pool ${desired.pool.name} are not known`)
      return [undoOp(['set', 'apppool', `/apppool.name:${desired.pool.name}`, ...sets], op)]
    }
    case 'add app':
      return [undoOp(['delete', 'app', app], op)]
    case 'set app':
      // preloadEnabled absent is false (docs/windows-facts.md, ai-preload).
      if (option(rest, 'preloadEnabled') !== undefined)
        return [undoOp(['set', 'app', app, `/preloadEnabled:${before.app.preloadEnabled || 'false'}`], op)]
      // An application without applicationPool runs in the site's default: setting '' would not be the same.
      if (!before.app.pool) throw new NoInverse(`${app} had no applicationPool of its own`)
      return [undoOp(['set', 'app', app, `/applicationPool:${before.app.pool}`], op)]
    case 'add vdir': {
      const vpath = option(rest, 'path') ?? ''
      return [undoOp(['delete', 'vdir', vpath === '/' ? rootVdirId(desired.app) : `${app.replace(/\/$/, '')}${vpath}`], op)]
    }
    case 'set vdir': {
      const id = rest[0] ?? ''
      const was = sameName(id, rootVdirId(desired.app))
        ? before.app.physicalPath
        : before.vdirs.find(v => sameName(vdirId(desired.app, v.path), id))?.physicalPath
      if (was === undefined) throw new NoInverse(`no earlier physical path known for ${id}`)
      return [undoOp(['set', 'vdir', id, `/physicalPath:${was}`], op)]
    }
    case 'delete vdir': {
      // A static vdir that STATIC_URL no longer names: the restored release's pages link it again.
      const id = rest[0] ?? ''
      const was = before.vdirs.find(v => sameName(vdirId(desired.app, v.path), id))
      if (!was) throw new NoInverse(`no earlier physical path known for ${id}`)
      return [undoOp(['add', 'vdir', `/app.name:${app}`, `/path:${was.path}`, `/physicalPath:${was.physicalPath}`], op)]
    }
    case 'set config': {
      if (rest[0] === FASTCGI) return fastCgiInverse(rest[1] ?? '', op, before, desired)
      if (rest[1] === HTTP_PLATFORM) {
        const inverse = envInverse(rest[2] ?? '', 'environmentVariables.', before.httpPlatformEnv ?? [])
        if (!inverse) throw new NoInverse(`unknown httpPlatform change ${rest[2] ?? ''}`)
        return [undoOp(['set', 'config', rest[0] ?? '', HTTP_PLATFORM, inverse.change, COMMIT], op, inverse.secrets)]
      }
      // The anonymous user's earlier settings are not read; for an app this run created they go with it.
      if (rest[1] === ANONYMOUS_SECTION && !before.app.exists) return []
      throw new NoInverse(`no inverse for ${op.why}`)
    }
  }
  throw new NoInverse(`no inverse for ${op.why}`)
}

/** The inverses of `done` (appcmd writes in the order they ran), newest first; `missing` says why one has none. */
export function undoPlan(
  done: readonly Operation[],
  before: CurrentState,
  desired: DesiredState
): { ops: Operation[] } | { missing: string } {
  const ops: Operation[] = []
  // A temporary site this run already deleted needs no undo (a second delete would be refused).
  const deleted = new Set<string>()
  try {
    for (const op of [...done].reverse()) {
      if (op.tool !== 'appcmd' || !op.mutates) continue
      const [verb, object, name] = op.argv.map(a => a.toLowerCase())
      if (verb === 'delete' && object === 'site' && namesPreSwitchSite(op.argv)) deleted.add(name ?? '')
      if (verb === 'add' && object === 'site' && deleted.has((option(op.argv, 'name') ?? '').toLowerCase())) continue
      ops.push(...inverseOf(op, before, desired))
    }
  } catch (err) {
    return { missing: err instanceof Error ? err.message : String(err) }
  }
  return { ops }
}

/** The pools that may run workers started on this run's configuration and that still exist after the rollback. */
export function poolsToRecycle(before: CurrentState, desired: DesiredState): string[] {
  const pools: string[] = []
  // The app's pool before the run: the app runs there again (an app this run created is gone).
  if (before.app.exists && before.app.pool) pools.push(before.app.pool)
  // The deploy's pool, unless this run created it (then the rollback removed it, or restored a server without it).
  if (before.pool.exists && !pools.some(p => sameName(p, desired.pool.name))) pools.push(desired.pool.name)
  return pools
}
