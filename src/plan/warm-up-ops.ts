import { appId, sameName } from '../iis/app-location.js'
import type { CurrentState } from '../iis/state.js'
import type { ObjectChange } from './diff.js'
import type { DesiredState, Operation } from './types.js'

// Warm-up (input warm-up) is IIS Application Initialization: the pool's startMode AlwaysRunning makes WAS start
// a worker without waiting for a request, and the app's preloadEnabled makes IIS send that worker a request of its
// own (docs/windows-facts.md, ai-start-mode, ai-preload). Both are attributes of objects the state read already
// lists, so the no-op check costs no extra appcmd call. Turned off, only what the deploy-root record says this
// tool set is put back: a pool an administrator made AlwaysRunning by hand stays so.

export const ALWAYS_RUNNING = 'AlwaysRunning'
/** IIS's default startMode (docs/windows-facts.md, ai-start-mode). */
export const ON_DEMAND = 'OnDemand'

const isTrue = (v: string | undefined): boolean => (v ?? '').toLowerCase() === 'true'

/** Whether the record says warm-up was set by this tool for the desired pool. */
function ours(now: CurrentState, desired: DesiredState): boolean {
  return now.warmUp !== undefined && sameName(now.warmUp.pool, desired.pool.name)
}

/** The startMode argument the pool's add or set needs, if any, and why. */
export function warmUpPoolArgs(now: CurrentState, desired: DesiredState): { args: string[]; why: string } {
  const running = sameName(now.pool.startMode, ALWAYS_RUNNING)
  if (desired.warmUp && !running) {
    return { args: [`/startMode:${ALWAYS_RUNNING}`], why: `startMode '${now.pool.startMode || ON_DEMAND}' → ${ALWAYS_RUNNING} (warm-up)` }
  }
  if (!desired.warmUp && running && now.pool.exists && ours(now, desired)) {
    return { args: [`/startMode:${ON_DEMAND}`], why: `startMode back to ${ON_DEMAND} (warm-up is off)` }
  }
  return { args: [], why: '' }
}

/** `set app` of preloadEnabled, after the app exists (an `add app` earlier in the same list creates it). */
export function warmUpAppOps(now: CurrentState, desired: DesiredState, objects: ObjectChange[]): Operation[] {
  const app = appId(desired.app)
  const preloaded = now.app.exists && isTrue(now.app.preloadEnabled)
  const set = (value: string, why: string): Operation[] => [
    { tool: 'appcmd', argv: ['set', 'app', app, `/preloadEnabled:${value}`], why, mutates: true }
  ]
  if (desired.warmUp) {
    const poolRuns = now.pool.exists && sameName(now.pool.startMode, ALWAYS_RUNNING)
    objects.push({ kind: 'warmUp', name: app, status: preloaded && poolRuns ? 'unchanged' : preloaded || poolRuns ? 'changed' : 'created' })
    return preloaded ? [] : set('true', `${app}: IIS starts the app when its pool starts (warm-up)`)
  }
  if (!ours(now, desired)) return []
  if (preloaded || sameName(now.pool.startMode, ALWAYS_RUNNING)) objects.push({ kind: 'warmUp', name: app, status: 'removed' })
  return preloaded ? set('false', `${app}: no preload (warm-up is off)`) : []
}
