import { InputError } from '../errors.js'
import { sameName } from './app-location.js'
import { AppcmdError, type Appcmd } from './appcmd.js'
import type { CurrentState } from './state.js'

/** What the check needs of the config: the pool, whether app-pool named it, and the app. */
export interface PoolChoice {
  appPool: string
  /** app-pool was set: sharing the pool is the user's choice, not an accident of the derived name. */
  appPoolGiven: boolean
  siteName: string
  appPath: string
}

/** `APP "S/app" (applicationPool:P)` lines (docs/windows-facts.md, ac-list-text): each app's name and pool. */
export function parseAppLines(stdout: string): { name: string; pool: string }[] {
  return [...stdout.matchAll(/^APP "([^"]*)" \(applicationPool:(.*)\)\s*$/gm)].map(m => ({ name: m[1] ?? '', pool: m[2] ?? '' }))
}

const appKey = (name: string): string => name.replace(/\/+$/, '').toLowerCase()

/**
 * Refuses a derived pool that already serves another app: two apps in one pool share an identity (which the deploy
 * grants access to its files) and its workers (which a deploy recycles). One read, only when the pool exists and
 * the app is not in it yet; an app-pool set by the user is taken as meant.
 */
export async function refuseSharedPool(appcmd: Appcmd, choice: PoolChoice, current: CurrentState): Promise<void> {
  if (choice.appPoolGiven || !current.pool.exists) return
  if (current.app.exists && sameName(current.app.pool ?? '', choice.appPool)) return
  let stdout: string | undefined
  try {
    stdout = await appcmd.list('list', 'apps', `/apppool.name:${choice.appPool}`)
  } catch (error) {
    // The filter is assumed (docs/windows-facts.md): where appcmd refuses it, every app is listed and filtered here.
    if (!(error instanceof AppcmdError)) throw error
    stdout = await appcmd.list('list', 'apps')
  }
  const ours = appKey(`${choice.siteName}${choice.appPath}`)
  // The pool of each line is checked too: an appcmd that ignored the filter lists every app.
  const others = parseAppLines(stdout ?? '')
    .filter(a => sameName(a.pool, choice.appPool) && appKey(a.name) !== ours)
    .map(a => a.name)
  if (others.length === 0) return
  throw new InputError(
    'app-pool',
    `the pool derived for ${choice.siteName}${choice.appPath}, '${choice.appPool}', already serves ${others.map(n => `'${n}'`).join(', ')}; set app-pool to a pool name of this app's own, or to '${choice.appPool}' to share that pool on purpose`
  )
}
