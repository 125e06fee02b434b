import fs from 'node:fs'
import path from 'node:path'
import { InputError } from './errors.js'

/** deploy-root/deploy-target.json: the one app (site and path) whose releases, venvs and logs the folder holds. */
export const CLAIM_FILE = 'deploy-target.json'

export interface DeployTarget {
  site: string
  appPath: string
}

export const targetName = (t: DeployTarget): string => `${t.site}${t.appPath}`

/** IIS compares site names and virtual paths without regard to case (as lockFileFor does). */
export const sameTarget = (a: DeployTarget, b: DeployTarget): boolean => targetName(a).toLowerCase() === targetName(b).toLowerCase()

function readClaim(file: string): DeployTarget | undefined {
  try {
    const claim = JSON.parse(fs.readFileSync(file, 'utf8')) as DeployTarget
    return typeof claim?.site === 'string' && typeof claim.appPath === 'string' ? claim : undefined
  } catch {
    return undefined
  }
}

const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * One deploy-root, one app: the first run records its target, and a run for another target is refused before
 * anything is written. Two apps in one folder would share venvs (so one FastCGI registration, so each other's
 * variables and secrets), and one app's release retention and staging cleanup would delete the other's files.
 */
export function claimDeployRoot(root: string, target: DeployTarget): void {
  const file = path.join(root, CLAIM_FILE)
  fs.mkdirSync(root, { recursive: true })
  try {
    // Exclusive create: two apps' first deploys at once cannot both claim the folder.
    fs.writeFileSync(file, `${JSON.stringify({ site: target.site, appPath: target.appPath }, null, 2)}\n`, { flag: 'wx' })
    return
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  let owner = readClaim(file)
  // A claim being written this instant reads empty: give its writer a moment.
  for (let i = 0; !owner && i < 20; i++) {
    pause(50)
    owner = readClaim(file)
  }
  if (!owner) {
    throw new InputError(
      'deploy-root',
      `${file} does not say which app deploys to ${root}; delete it if only ${targetName(target)} deploys there`
    )
  }
  if (sameTarget(owner, target)) return
  throw new InputError(
    'deploy-root',
    `${root} holds the releases of ${targetName(owner)}, not ${targetName(target)}: give each app its own deploy-root ` +
      `(or delete ${file} if ${targetName(owner)} no longer deploys there)`
  )
}
