/**
 * The IIS stand-in's model of more than one site and of the pool identity's read access (docs/windows-facts.md,
 * rows ac-add-site-defaults, pool-two-sites, site-autostart, acl-config-read):
 * - every site of applicationHost.config with an http binding on 127.0.0.1 (or *) and its own port is served on
 *   that port as soon as the site exists, and no longer once it is deleted (WAS starts a new site whose
 *   serverAutoStart is not false: assumed, probe:new-site-started);
 * - an app runs in its applicationPool, else its site's <applicationDefaults>, else the server's; one pool may
 *   serve apps of several sites;
 * - with the icacls double's log given, IIS reads an app's web.config as its pool identity (IIS AppPool\<pool>):
 *   when no grant with read (R, RX, M, F) on the folder or an inheriting ancestor names it, IIS answers 500.19
 *   with 0x80070005 before any handler runs.
 */
import fs from 'node:fs'
import path from 'node:path'

export const CONFIG_UNREADABLE_TEXT =
  'HTTP Error 500.19 - Internal Server Error. The requested page cannot be accessed because the related configuration data for the page is invalid. ' +
  'Error Code 0x80070005. Config Error: Cannot read configuration file due to insufficient permissions'

const kids = (el, name) => {
  const out = []
  for (let n = el?.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && (!name || n.nodeName === name)) out.push(n)
  return out
}
const same = (a, b) => a.toLowerCase() === b.toLowerCase()

function sitesOf(root) {
  const apphost = kids(root, 'system.applicationHost')[0]
  return kids(kids(apphost, 'sites')[0], 'site')
}

/** Sites other than `mainSite` with a loopback or any-address http binding: name and port. */
export function extraSites(root, mainSite) {
  const out = []
  for (const site of sitesOf(root)) {
    const name = site.getAttribute('name') ?? ''
    if (same(name, mainSite)) continue
    for (const b of kids(kids(site, 'bindings')[0], 'binding')) {
      const m = /^(127\.0\.0\.1|\*):(\d+):/.exec(b.getAttribute('bindingInformation') ?? '')
      if (b.getAttribute('protocol') === 'http' && m) out.push({ name, port: Number(m[2]) })
    }
  }
  return out
}

/** The pool an app of `siteName` at `appPath` ('' for the root) runs in. */
export function poolOf(root, siteName, appPath) {
  const sites = kids(kids(root, 'system.applicationHost')[0], 'sites')[0]
  const site = sitesOf(root).find(s => same(s.getAttribute('name') ?? '', siteName))
  const app = kids(site, 'application').find(a => same((a.getAttribute('path') ?? '/').replace(/\/+$/, ''), appPath))
  return (
    app?.getAttribute('applicationPool') ||
    kids(site, 'applicationDefaults')[0]?.getAttribute('applicationPool') ||
    kids(sites, 'applicationDefaults')[0]?.getAttribute('applicationPool') ||
    'DefaultAppPool'
  )
}

const READS = /(^|[(,])(R|RX|M|F)(\)|,|$)/

/** Whether the icacls double's log gives `principal` read on `folder` (its own grant or an inheriting ancestor's). */
export function mayRead(aclLog, principal, folder) {
  if (!fs.existsSync(aclLog)) return false
  const records = fs
    .readFileSync(aclLog, 'utf8')
    .split('\n')
    .filter(l => l.trim() !== '')
    .map(l => JSON.parse(l))
  const target = path.resolve(folder)
  // The folders whose own entry gives the principal read on the target: the target itself, or an ancestor whose
  // entry inherits (OI/CI). /inheritance:r on a folder drops what came from above it (ic-grant).
  const sources = new Set()
  for (const r of records) {
    const at = path.resolve(r.path)
    const onTarget = at === target
    if (!onTarget && !target.startsWith(at + path.sep)) continue
    if (r.action === 'inheritance:r') {
      for (const source of [...sources]) if (at.startsWith(source + path.sep)) sources.delete(source)
      continue
    }
    if (!same(r.principal ?? '', principal)) continue
    if (r.action === 'remove') sources.delete(at)
    else if (!onTarget && !/\((OI|CI)\)/.test(r.perm ?? '')) continue
    else if (READS.test((r.perm ?? '').replace(/\((OI|CI|IO|NP|I)\)/g, ''))) sources.add(at)
  }
  return sources.size > 0
}
