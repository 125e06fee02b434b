import { asError } from '../errors.js'
import { AppcmdError, type Appcmd } from '../iis/appcmd.js'
import type { Log } from '../log.js'
import type { Operation } from '../plan/types.js'

/**
 * Why the pools recycle. The IIS module copies <ISAPI><Site> into each worker process once, when the process
 * starts, and every request of the site (the handler at the root app, the protected path at its app) is mapped
 * with that copy (docs/windows-facts.md, nm-sso-recycle).
 */
const WHY = "the Shibboleth IIS module reads <ISAPI> once per worker process: start the site's workers on the changed file"

/** A line of `appcmd list apps`: APP "Site/path" (applicationPool:Pool). */
const APP_LINE = /^APP "(.*)" \(applicationPool:(.*)\)\s*$/

/** appcmd's answer to a recycle of a stopped pool (ERROR_SERVICE_NOT_ACTIVE); a stopped pool starts fresh workers. */
const POOL_STOPPED = /has not been started|80070426/i

export interface SiteApp {
  /** `Site/` for the root app, `Site/path` for the others. */
  app: string
  pool: string
}

export function parseSiteApps(text: string): SiteApp[] {
  const apps: SiteApp[] = []
  for (const line of text.split(/\r?\n/)) {
    const m = APP_LINE.exec(line.trim())
    if (m) apps.push({ app: m[1], pool: m[2] })
  }
  return apps
}

/** The steps as plan mode prints them: the pools are only known on the server. */
export function recyclePlanOperations(site: string, reason: string): Operation[] {
  return [
    {
      tool: 'appcmd',
      argv: ['list', 'apps', `/site.name:${site}`],
      why: "the pools serving the site; its root app's pool answers /Shibboleth.sso/*",
      mutates: false
    },
    { tool: 'appcmd', argv: ['recycle', 'apppool', '/apppool.name:<each pool listed>'], why: `${reason}: ${WHY}`, mutates: true }
  ]
}

export interface RecycleResult {
  /** Distinct pools of the site's apps, the root app's first. */
  pools: string[]
  /** Pools this step recycled, or that this run had already recycled after the SP change. */
  recycled: string[]
  /** What went wrong, one line each; verify then tells whether login works. */
  failed: string[]
}

async function listSiteApps(appcmd: Appcmd, site: string): Promise<SiteApp[]> {
  try {
    return parseSiteApps(await appcmd.read('list', 'apps', `/site.name:${site}`))
  } catch (err) {
    // A list that matches nothing answers in more than one way (exit 1 and no text, or "Cannot find"): no apps.
    if (err instanceof AppcmdError && (err.kind === 'notFound' || err.exitCode === 1)) return []
    throw err
  }
}

/**
 * Recycles every pool that serves an app of the site, the root app's pool first (it serves /Shibboleth.sso/*),
 * each once; pools in `alreadyRecycled` (recycled by this run after the SP change) are not recycled again. Never
 * throws: a failure is returned, for the caller to warn about.
 */
export async function recycleSitePools(
  appcmd: Appcmd,
  log: Log,
  site: string,
  alreadyRecycled: readonly string[] = []
): Promise<RecycleResult> {
  const result: RecycleResult = { pools: [], recycled: [], failed: [] }
  let apps: SiteApp[]
  try {
    apps = await listSiteApps(appcmd, site)
  } catch (err) {
    result.failed.push(`listing the apps of site ${site} (${asError(err).message})`)
    return result
  }
  const root = apps.find(a => a.app.toLowerCase() === `${site}/`.toLowerCase())
  if (!root) result.failed.push(`site ${site} lists no root app, whose pool answers /Shibboleth.sso/*`)
  const seen = new Set<string>()
  for (const { pool } of [...(root ? [root] : []), ...apps]) {
    if (!pool || seen.has(pool.toLowerCase())) continue
    seen.add(pool.toLowerCase())
    result.pools.push(pool)
  }
  const done = new Set(alreadyRecycled.map(p => p.toLowerCase()))
  for (const pool of result.pools) {
    if (done.has(pool.toLowerCase())) {
      log.info(`App pool ${pool} was already recycled after the SP change.`)
      result.recycled.push(pool)
      continue
    }
    try {
      await appcmd.run({ argv: ['recycle', 'apppool', `/apppool.name:${pool}`], mutates: true })
      result.recycled.push(pool)
    } catch (err) {
      if (err instanceof AppcmdError && POOL_STOPPED.test(err.message)) {
        log.info(`App pool ${pool} is stopped: its workers read the changed file when it starts.`)
        continue
      }
      result.failed.push(`recycling app pool ${pool} (${asError(err).message})`)
    }
  }
  return result
}
