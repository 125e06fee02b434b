import crypto from 'node:crypto'

/** No documented limit on a pool name's length was found: this one is assumed (docs/input-rules.md). */
export const MAX_POOL_NAME = 64

const HASH_LENGTH = 10

function hashOf(siteName: string, appPath: string): string {
  // Site names and app paths are taken as case-insensitive (assumed, docs/input-rules.md): /App and /app share a pool.
  return crypto.createHash('sha256').update(`${siteName}\n${appPath}`.toLowerCase()).digest('hex').slice(0, HASH_LENGTH)
}

/**
 * The pool an app gets when app-pool is empty: one per (site, app path), so two apps never share an identity.
 * The readable form `Site-a-b` keeps only letters, digits and the path's slashes (as -); whenever that loses
 * something (a - _ . ~ in the path, a site name with other than letters, digits and spaces) or is too long, a
 * hash of the exact pair follows after a dot. Readable forms never hold a dot, so the two kinds cannot meet.
 * Site names that differ only in spaces (Default Web Site, DefaultWebSite) share the readable form.
 */
export function derivePoolName(siteName: string, appPath: string): string {
  const site = siteName.replace(/ /g, '')
  const app = appPath.replace(/^\/+|\/+$/g, '')
  const readable = app ? `${site}-${app.replace(/\//g, '-')}` : site
  const lossless = /^[A-Za-z0-9]+$/.test(site) && /^[A-Za-z0-9/]*$/.test(app)
  if (lossless && readable.length <= MAX_POOL_NAME) return readable
  const kept = readable
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
  const prefix = kept.slice(0, MAX_POOL_NAME - HASH_LENGTH - 1).replace(/-$/, '')
  return `${prefix || 'app'}.${hashOf(siteName, appPath)}`
}
