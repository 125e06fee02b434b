/**
 * A Linux stand-in for IIS serving a site (and the loopback sites beside it), for end-to-end tests: what it
 * serves comes only from the appcmd double's applicationHost.config (re-read on every request) and the web.config
 * files in the physical paths.
 *
 * What it plays, by the rows of docs/windows-facts.md:
 * - the app is the longest application path of the site that prefixes the request; the site root outside any
 *   application is 404;
 * - within the app, the longest virtual directory path that prefixes the rest of the URL serves it (a vdir's path
 *   "becomes part of the application's URL": Microsoft Learn, "Understanding Sites, Applications, and Virtual
 *   Directories on IIS"; longest match assumed, as for applications); paths may have several segments;
 * - handlers: the global list of applicationHost.config, then the app's web.config, then the serving vdir's
 *   web.config, then the web.config of each content folder on the way to the file (allowSubDirConfig's default)
 *   (clear/remove/add; a child's adds come before inherited entries); the first handler wins;
 * - a web.config that declares <handlers> where the section is locked answers 500.19 (0x80070021);
 * - StaticFileModule serves the file from the vdir's physicalPath with a content type from IIS's default MIME map
 *   and the <staticContent> of the app's and the vdir's web.config (clear/remove/mimeMap; a mimeMap whose
 *   extension the inherited map has is a duplicate key, 500.19) — 404 when missing, 404.3 for an unknown extension;
 * - FastCgiModule: the handler's scriptProcessor must equal a fastCgi application's fullPath|arguments, else 500
 *   with IIS's text; the backend runs fullPath with a wfastcgi-like launcher (iis-standin-wsgi.py) under waitress,
 *   cwd = the app's physicalPath and an environment of exactly the registration's environmentVariables. When the
 *   physicalPath, the registration or its variables change, the backend is restarted (a recycle); so it is when the
 *   app's web.config changes (wfastcgi's file watcher). The URL path reaches the launcher whole: SCRIPT_NAME comes
 *   only from a SCRIPT_NAME setting, as in wfastcgi (see iis-standin-wsgi.py).
 * - with `fastCgiPerWorker`: one worker process per pool, replaced on each recycle the appcmd double records; in it
 *   one FastCGI process per fullPath|arguments, shared by every app of the pool whose handler names it, serving
 *   the release of the first request it answered (wfastcgi's `initialized`) until the next recycle (st-worker).
 * Plain JavaScript so that scripts/bench.mjs runs it with node alone; types are in iis-standin.d.mts.
 * - httpPlatformHandler: the process of the app's <httpPlatform> is started and the request proxied to it with its
 *   URL unchanged (iis-standin-httpplatform.mjs); restarted when its command or variables change.
 * - a content folder's own locks, request filtering and custom headers: iis-standin-content.mjs.
 * - more sites: each other site with an http binding on 127.0.0.1 or * and a port is served on that port while it
 *   exists; pools and, with `aclLog`, the pool identity's read on the app's folder (iis-standin-sites.mjs).
 * Limits: HTTP only, no host names, ACLs only as the icacls double recorded them (with `aclLog`), no default
 * documents, no handler accessPolicy, request filtering only from web.config files (none by default), the
 * FastCGI backend speaks HTTP instead of FastCGI.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { clearInterval, setInterval } from 'node:timers'
import { DOMParser } from '@xmldom/xmldom'
import { argvFor, httpPlatformOf } from './iis-standin-httpplatform.mjs'
import { customHeaders, declaresLocked, filterRequest, liftLocations } from './iis-standin-content.mjs'
import { CONFIG_UNREADABLE_TEXT, extraSites, mayRead, poolOf } from './iis-standin-sites.mjs'

export { CONFIG_UNREADABLE_TEXT }

const LAUNCHER = path.join(import.meta.dirname, 'iis-standin-wsgi.py')

/**
 * IIS's default MIME map, written from the server's own defaults rather than from the product's table (the product
 * is what these tests check). Source: the <staticContent> section of the default applicationhost.config that IIS
 * Express ships, as kept in jexuswebserver/JexusManager at Microsoft.Web.Administration/Resources/original.config
 * (commit c169dbe), lines 571 .css, 598 .eot, 609 .gif, 622-623 .htm/.html, 628 .ico, 644-645 .jpeg/.jpg, 646 .js,
 * 663 .map, 710 .otf, 732 .png, 795 .svg, 814 .ttf, 816 .txt, 851 .woff, 880 .xml. That list has no .json, .woff2,
 * .mjs or .webp, so the stand-in answers 404.3 for them, as IIS answers for an extension its map lacks
 * (iis-docs iis/configuration/system.webServer/staticContent/mimeMap.md:20-21). Whether a full IIS 10 adds .json
 * or .woff2 to this list is assumed not (not yet probed: `appcmd list config -section:system.webServer/staticContent` on a fresh server settles it); the iis-docs
 * samples (iis/configuration/system.webServer/index/samples/sample1.xml:83-90) are abridged and settle nothing.
 */
const DEFAULT_MIME = {
  '.css': 'text/css',
  '.eot': 'application/vnd.ms-fontobject',
  '.gif': 'image/gif',
  '.htm': 'text/html',
  '.html': 'text/html',
  '.ico': 'image/x-icon',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.js': 'application/javascript',
  '.map': 'text/plain',
  '.otf': 'font/otf',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ttf': 'application/octet-stream',
  '.txt': 'text/plain',
  '.woff': 'font/x-woff',
  '.xml': 'text/xml'
}

export const LOCKED_SECTION_TEXT =
  'HTTP Error 500.19 - Internal Server Error. Error Code 0x80070021. Config Error: This configuration section cannot be used at this path. ' +
  'This happens when the section is locked at a parent level. Locking is either by default (overrideModeDefault="Deny"), or set explicitly ' +
  'by a location tag with overrideMode="Deny" or the legacy allowOverride="false".'

export const NO_FASTCGI_APP_TEXT =
  'HTTP Error 500.0 - Internal Server Error. <handler> scriptProcessor could not be found in <fastCGI> application configuration'

class HttpError extends Error {
  constructor(status, text) {
    super(text)
    this.status = status
  }
}

const children = (el, name) => {
  const out = []
  if (!el) return out
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && (name === undefined || n.nodeName === name)) out.push(n)
  return out
}
const child = (el, ...names) => {
  let cur = el ?? undefined
  for (const name of names) cur = children(cur, name)[0]
  return cur
}
const same = (a, b) => a.toLowerCase() === b.toLowerCase()

function parse(text) {
  const doc = new DOMParser().parseFromString(text, 'text/xml')
  if (!doc.documentElement) throw new HttpError(500, 'HTTP Error 500.19: configuration file is not well-formed XML')
  return doc.documentElement
}

/** A web.config, its `<location path=".">` sections read as its own; `lockedBelow`: what it locks (iis-standin-content). */
function readXml(file) {
  if (!fs.existsSync(file)) return undefined
  const configuration = parse(fs.readFileSync(file, 'utf8'))
  configuration.lockedBelow = liftLocations(configuration)
  return configuration
}

function handlersOf(configuration) {
  return child(configuration, 'system.webServer', 'handlers')
}

export const DUPLICATE_MIME_TEXT =
  'HTTP Error 500.19 - Internal Server Error. Error Code 0x800700b7. Config Error: Cannot add duplicate collection entry of type ' +
  "'mimeMap' with unique key attribute 'fileExtension'"

/**
 * Applies one config level's <staticContent> to the inherited MIME map. fileExtension is the collection's unique
 * key (iis-docs iis/configuration/system.webServer/staticContent/mimeMap.md, "Attributes"); adding a key the
 * collection already holds fails (iis-docs iis/get-started/introduction-to-iis/iis-modules-overview.md:200).
 */
function applyStaticContent(inherited, configuration) {
  const section = child(configuration, 'system.webServer', 'staticContent')
  if (!section) return inherited
  const map = { ...inherited }
  for (const el of children(section)) {
    const ext = (el.getAttribute('fileExtension') ?? '').toLowerCase()
    if (el.nodeName === 'clear') for (const key of Object.keys(map)) delete map[key]
    else if (el.nodeName === 'remove') delete map[ext]
    else if (el.nodeName === 'mimeMap') {
      if (ext in map) throw new HttpError(500, DUPLICATE_MIME_TEXT)
      map[ext] = el.getAttribute('mimeType') ?? ''
    }
  }
  return map
}

/** Applies one config level's <handlers> to the inherited list: a level's own adds precede what it inherits. */
function applyHandlers(inherited, handlers) {
  if (!handlers) return inherited
  let list = [...inherited]
  const added = []
  for (const el of children(handlers)) {
    const name = el.getAttribute('name') ?? ''
    if (el.nodeName === 'clear') {
      list = []
      added.length = 0
    } else if (el.nodeName === 'remove') {
      list = list.filter(h => !same(h.name, name))
      const i = added.findIndex(h => same(h.name, name))
      if (i >= 0) added.splice(i, 1)
    } else if (el.nodeName === 'add') {
      added.push({
        name,
        path: el.getAttribute('path') ?? '*',
        modules: el.getAttribute('modules') ?? '',
        scriptProcessor: el.getAttribute('scriptProcessor') ?? ''
      })
    }
  }
  return [...added, ...list]
}

function pathMatches(pattern, file) {
  if (pattern === '*') return true
  const re = new RegExp(
    '^' +
      pattern
        .split('*')
        .map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
    'i'
  )
  return re.test(file)
}

/** Whether a web.config at `location` (e.g. "Default Web Site/app") may declare the handlers section. */
function handlersUnlocked(root, location) {
  const group = children(child(root, 'configSections')).find(g => g.getAttribute('name') === 'system.webServer')
  const decl = children(group, 'section').find(s => s.getAttribute('name') === 'handlers')
  let mode = decl?.getAttribute('overrideModeDefault') || 'Allow'
  const applies = p => p === '' || same(p, location) || location.toLowerCase().startsWith(`${p.toLowerCase()}/`)
  const locs = children(root, 'location')
    .map(l => ({ l, p: (l.getAttribute('path') ?? '').replace(/^\/+|\/+$/g, '') }))
    .filter(({ l, p }) => applies(p) && handlersOf(l) !== undefined && (l.hasAttribute('overrideMode') || l.hasAttribute('allowOverride')))
    .sort((a, b) => a.p.length - b.p.length)
  for (const { l } of locs) {
    const override = l.getAttribute('overrideMode')
    if (override === 'Allow' || override === 'Deny') mode = override
    else if (l.getAttribute('allowOverride') === 'false') mode = 'Deny'
    else if (l.getAttribute('allowOverride') === 'true') mode = 'Allow'
  }
  return mode === 'Allow'
}

function findApp(root, siteName, urlPath) {
  const site = children(child(root, 'system.applicationHost', 'sites'), 'site').find(s => same(s.getAttribute('name') ?? '', siteName))
  if (!site) throw new HttpError(404, 'HTTP Error 404.0 - Not Found (no such site)')
  const lower = urlPath.toLowerCase()
  const candidates = children(site, 'application')
    .map(a => ({ a, p: (a.getAttribute('path') ?? '/').replace(/\/+$/, '') }))
    .filter(({ p }) => p !== '' && (lower === p.toLowerCase() || lower.startsWith(`${p.toLowerCase()}/`)))
    .sort((x, y) => y.p.length - x.p.length)
  const found = candidates[0]
  if (!found) throw new HttpError(404, 'HTTP Error 404.0 - Not Found')
  const vdirs = children(found.a, 'virtualDirectory')
  const rootVdir = vdirs.find(v => v.getAttribute('path') === '/')
  if (!rootVdir) throw new HttpError(500, 'HTTP Error 500.0: application has no root virtual directory')
  return {
    appPath: found.p,
    physicalPath: rootVdir.getAttribute('physicalPath') ?? '',
    vdirs: vdirs
      .map(v => ({ path: (v.getAttribute('path') ?? '/').replace(/\/+$/, ''), physicalPath: v.getAttribute('physicalPath') ?? '' }))
      .filter(v => v.path !== '')
      .sort((x, y) => y.path.length - x.path.length)
  }
}

function fastCgiApps(root) {
  return children(child(root, 'system.webServer', 'fastCgi'), 'application').map(a => {
    const env = {}
    for (const v of children(child(a, 'environmentVariables'), 'environmentVariable'))
      env[v.getAttribute('name') ?? ''] = v.getAttribute('value') ?? ''
    return { fullPath: a.getAttribute('fullPath') ?? '', arguments: a.getAttribute('arguments') ?? '', env }
  })
}

function waitForPort(port, backend, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (backend.exited) {
        reject(new HttpError(500, `HTTP Error 500.0 - The FastCGI process exited unexpectedly\n${backend.stderr.slice(-2000)}`))
        return
      }
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve()
      })
      socket.once('error', () => {
        socket.destroy()
        if (Date.now() > deadline) reject(new HttpError(500, 'HTTP Error 500.0 - The FastCGI process exceeded configured activity timeout'))
        else setTimeout(attempt, 50)
      })
    }
    attempt()
  })
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

export async function startIisStandin(opts) {
  const siteName = opts.site ?? 'Default Web Site'
  const startMs = opts.backendStartMs ?? 30_000
  const served = []
  // HttpPlatformHandler's process starts here, not in the app's folder (see iis-standin-httpplatform.mjs).
  const neutralDir = fs.mkdtempSync(path.join(os.tmpdir(), 'iis-standin-hp-'))
  let backend
  let starts = 0
  let starting

  const stopBackend = async () => {
    const b = backend
    backend = undefined
    if (!b || b.exited) return
    await new Promise(resolve => {
      b.child.once('exit', () => resolve())
      b.child.kill('SIGTERM')
    })
  }

  /** The FastCGI worker: the wfastcgi-like launcher under the registration's fullPath. */
  const fastCgiBackend = (app, fcgi, pool) => {
    // wfastcgi restarts itself when a *.config file of the app changes (start_file_watcher, default
    // WSGI_RESTART_FILE_REGEX), so the app's web.config, which holds its appSettings, is part of the key.
    const webConfig = path.join(app.physicalPath, 'web.config')
    const settingsText = fs.existsSync(webConfig) ? fs.readFileSync(webConfig, 'utf8') : ''
    // fastCgiPerWorker (st-worker): one process pool per fullPath|arguments in the pool's worker process, which a
    // recycle replaces; the app's path is not part of it, and the process keeps the release of its first request.
    const key = opts.fastCgiPerWorker
      ? ['worker', pool.toLowerCase(), recyclesOf(pool), fcgi.fullPath, fcgi.arguments, fcgi.env]
      : [app.physicalPath, app.appPath, fcgi.fullPath, fcgi.arguments, fcgi.env, settingsText]
    return {
      key: JSON.stringify(key),
      env: fcgi.env,
      // Exactly the registration's variables: nothing of the test process's environment reaches the app.
      start: port =>
        spawn(fcgi.fullPath, [LAUNCHER, String(port)], { cwd: app.physicalPath, env: { ...fcgi.env }, stdio: ['ignore', 'ignore', 'pipe'] })
    }
  }

  /** How often the appcmd double recycled the pool (its runtime file): each recycle is a new worker process. */
  const recyclesOf = pool => {
    try {
      return JSON.parse(fs.readFileSync(`${opts.configPath}.runtime.json`, 'utf8')).recycled?.[pool.toLowerCase()] ?? 0
    } catch {
      return 0
    }
  }

  /** HttpPlatformHandler's process: processPath with its arguments, the port in them and in HTTP_PLATFORM_PORT. */
  const httpPlatformBackend = (app, hp) => ({
    key: JSON.stringify([app.physicalPath, app.appPath, hp.processPath, hp.arguments, hp.env]),
    env: hp.env,
    start: port =>
      spawn(hp.processPath, argvFor(hp.arguments, port), {
        cwd: neutralDir,
        env: { ...hp.env, HTTP_PLATFORM_PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe']
      })
  })

  const ensureBackend = async (app, plan) => {
    const key = plan.key
    if (backend && backend.key === key && !backend.exited) return backend
    if (starting) {
      const b = await starting
      if (b.key === key) return b
    }
    starting = (async () => {
      await stopBackend()
      const port = await freePort()
      const proc = plan.start(port)
      const b = {
        key,
        port,
        child: proc,
        exited: false,
        stderr: '',
        pid: proc.pid ?? -1,
        physicalPath: app.physicalPath,
        env: { ...plan.env }
      }
      const keep = d => {
        b.stderr = (b.stderr + d.toString()).slice(-8000)
      }
      proc.stdout?.on('data', keep)
      proc.stderr?.on('data', keep)
      proc.once('exit', () => {
        b.exited = true
      })
      proc.once('error', e => {
        b.exited = true
        b.stderr += String(e)
      })
      starts++
      backend = b
      await waitForPort(port, b, startMs)
      return b
    })()
    try {
      return await starting
    } finally {
      starting = undefined
    }
  }

  const forward = (req, res, port) =>
    new Promise(resolve => {
      const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
        answer.once('end', resolve)
      })
      upstream.once('error', e => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(`HTTP Error 500.0 - The FastCGI process exited unexpectedly (${e.message})`)
        resolve()
      })
      req.pipe(upstream)
    })

  const serveStatic = (res, dir, rel, mime, headers = {}) => {
    if (!dir) throw new HttpError(404, 'HTTP Error 404.0 - Not Found')
    const file = path.resolve(dir, ...rel.split('/').filter(Boolean))
    if (!file.startsWith(path.resolve(dir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new HttpError(404, 'HTTP Error 404.0 - Not Found')
    }
    const type = mime[path.extname(file).toLowerCase()]
    if (!type) throw new HttpError(404, 'HTTP Error 404.3 - Not Found: the MIME map has no entry for this extension')
    res.writeHead(200, { ...headers, 'content-type': type, server: 'Microsoft-IIS/10.0 (stand-in)' })
    res.end(fs.readFileSync(file))
  }

  const handle = async (req, res, siteName) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://stand-in').pathname)
    const root = parse(fs.readFileSync(opts.configPath, 'utf8'))
    const app = findApp(root, siteName, urlPath)
    const location = `${siteName}${app.appPath}`
    // IIS reads the app's web.config as the pool identity before any handler runs.
    if (opts.aclLog && !mayRead(opts.aclLog, `IIS AppPool\\${poolOf(root, siteName, app.appPath)}`, app.physicalPath))
      throw new HttpError(500, CONFIG_UNREADABLE_TEXT)
    const appConfig = readXml(path.join(app.physicalPath, 'web.config'))
    if (handlersOf(appConfig) && !handlersUnlocked(root, location)) throw new HttpError(500, LOCKED_SECTION_TEXT)
    let handlers = applyHandlers(applyHandlers([], handlersOf(root)), handlersOf(appConfig))
    let mime = applyStaticContent(DEFAULT_MIME, appConfig)
    // Every web.config on the way, in order: what one locks, the levels below may not declare (md-lock-below).
    const levels = appConfig ? [appConfig] : []
    const locked = new Set(appConfig?.lockedBelow ?? [])
    const level = cfg => {
      if (declaresLocked(cfg, locked)) throw new HttpError(500, LOCKED_SECTION_TEXT)
      levels.push(cfg)
      for (const name of cfg.lockedBelow) locked.add(name)
    }

    const rest = urlPath.slice(app.appPath.length)
    const lowerRest = rest.toLowerCase()
    const vdir = app.vdirs.find(v => lowerRest === v.path.toLowerCase() || lowerRest.startsWith(`${v.path.toLowerCase()}/`))
    const rel = vdir ? rest.slice(vdir.path.length) : rest
    if (vdir) {
      const vdirConfig = readXml(path.join(vdir.physicalPath, 'web.config'))
      if (handlersOf(vdirConfig) && !handlersUnlocked(root, `${location}${vdir.path}`)) throw new HttpError(500, LOCKED_SECTION_TEXT)
      if (vdirConfig) level(vdirConfig)
      handlers = applyHandlers(handlers, handlersOf(vdirConfig))
      mime = applyStaticContent(mime, vdirConfig)
    }
    // Then each content folder on the way down to the file: its web.config applies below it (allowSubDirConfig).
    const base = vdir ? vdir.physicalPath : app.physicalPath
    const folders = rel.split('/').filter(Boolean).slice(0, -1)
    for (let depth = 1; depth <= folders.length; depth++) {
      const sub = folders.slice(0, depth).join('/')
      const subConfig = readXml(path.join(base, ...folders.slice(0, depth), 'web.config'))
      if (!subConfig) continue
      const at = `${location}${vdir ? vdir.path : ''}/${sub}`
      if (handlersOf(subConfig) && !handlersUnlocked(root, at)) throw new HttpError(500, LOCKED_SECTION_TEXT)
      level(subConfig)
      handlers = applyHandlers(handlers, handlersOf(subConfig))
      mime = applyStaticContent(mime, subConfig)
    }
    // Request filtering runs before any handler is picked (md-request-filtering).
    const filtered = filterRequest(levels, rest)
    if (filtered) throw new HttpError(filtered.status, filtered.text)
    const fileName = rel.split('/').pop() ?? ''
    const handler = handlers.find(h => pathMatches(h.path, fileName || '*'))
    if (!handler) throw new HttpError(404, 'HTTP Error 404.0 - Not Found (no handler)')
    const modules = handler.modules.toLowerCase()
    if (modules.includes('fastcgimodule')) {
      const fcgi = fastCgiApps(root).find(a => `${a.fullPath}|${a.arguments}` === handler.scriptProcessor)
      if (!fcgi) throw new HttpError(500, NO_FASTCGI_APP_TEXT)
      const b = await ensureBackend(app, fastCgiBackend(app, fcgi, poolOf(root, siteName, app.appPath)))
      await forward(req, res, b.port)
      return 'fastcgi'
    }
    if (modules.includes('httpplatformhandler')) {
      const hp = httpPlatformOf(root, appConfig, location)
      if (!hp) throw new HttpError(500, 'HTTP Error 500.0 - Internal Server Error. The httpPlatform section is missing')
      const b = await ensureBackend(app, httpPlatformBackend(app, hp))
      // Proxied with the URL unchanged: the app's own path stays in front.
      await forward(req, res, b.port)
      return 'httpplatform'
    }
    if (modules.includes('staticfilemodule')) {
      serveStatic(res, vdir ? vdir.physicalPath : app.physicalPath, rel, mime, customHeaders(levels))
      return 'static'
    }
    throw new HttpError(500, `HTTP Error 500.21: the stand-in does not emulate module "${handler.modules}" (handler ${handler.name})`)
  }

  const serve = site => (req, res) => {
    handle(req, res, site).then(
      how => served.push(how),
      e => {
        const status = e instanceof HttpError ? e.status : 500
        served.push(String(status))
        if (!res.headersSent)
          res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', server: 'Microsoft-IIS/10.0 (stand-in)' })
        res.end(e instanceof Error ? e.message : String(e))
      }
    )
  }
  const server = http.createServer(serve(siteName))
  // Other sites come and go with the configuration: each is listened for on its own port while it exists.
  const others = new Map()
  const syncSites = () => {
    let wanted = []
    try {
      wanted = extraSites(parse(fs.readFileSync(opts.configPath, 'utf8')), siteName)
    } catch {
      return
    }
    for (const [key, other] of others) {
      if (wanted.some(w => `${w.name}|${w.port}` === key)) continue
      others.delete(key)
      other.closeAllConnections()
      other.close()
    }
    for (const w of wanted) {
      const key = `${w.name}|${w.port}`
      if (others.has(key)) continue
      const other = http.createServer(serve(w.name))
      other.on('error', () => others.delete(key))
      other.listen(w.port, '127.0.0.1')
      others.set(key, other)
    }
  }
  const watcher = setInterval(syncSites, 20)
  watcher.unref()
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = server.address().port

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    served: () => [...served],
    backend: () =>
      backend && !backend.exited ? { pid: backend.pid, physicalPath: backend.physicalPath, env: { ...backend.env } } : undefined,
    backendStarts: () => starts,
    otherSites: () => [...others.keys()],
    close: async () => {
      clearInterval(watcher)
      for (const other of others.values()) {
        other.closeAllConnections()
        other.close()
      }
      server.closeAllConnections()
      await new Promise(resolve => server.close(() => resolve()))
      await stopBackend()
      fs.rmSync(neutralDir, { recursive: true, force: true })
    }
  }
}
