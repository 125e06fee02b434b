/**
 * A Linux stand-in for IIS serving one site, for end-to-end tests: what it serves comes only from the appcmd
 * double's applicationHost.config (re-read on every request) and the web.config files in the physical paths.
 *
 * What it plays, by the rules in /work/shared/iis-facts.md:
 * - the app is the longest application path of the site that prefixes the request; the site root outside any
 *   application is 404;
 * - handlers: the global list of applicationHost.config, then the app's web.config, then the /static vdir's
 *   web.config (clear/remove/add; a child's adds come before inherited entries); the first handler wins;
 * - a web.config that declares <handlers> where the section is locked answers 500.19 (0x80070021);
 * - StaticFileModule serves the file from the vdir's physicalPath with a content type from a small MIME map
 *   (404 when missing, 404.3 for an unknown extension);
 * - FastCgiModule: the handler's scriptProcessor must equal a fastCgi application's fullPath|arguments, else 500
 *   with IIS's text; the backend runs fullPath with a wfastcgi-like launcher (iis-standin-wsgi.py) under waitress,
 *   cwd = the app's physicalPath and an environment of exactly the registration's environmentVariables. When the
 *   physicalPath, the registration or its variables change, the backend is restarted (a recycle).
 * Limits: one site, HTTP only, no bindings or host names, no pools or identities (no ACLs enforced), no
 * httpPlatform, no default documents, no request filtering, the backend speaks HTTP instead of FastCGI.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { DOMParser, type Element } from '@xmldom/xmldom'

const LAUNCHER = path.join(import.meta.dirname, 'iis-standin-wsgi.py')

const MIME: Record<string, string> = {
  '.css': 'text/css',
  '.js': 'application/javascript',
  '.json': 'application/json',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.txt': 'text/plain',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'application/octet-stream',
  '.map': 'application/octet-stream'
}

export const LOCKED_SECTION_TEXT =
  'HTTP Error 500.19 - Internal Server Error. Error Code 0x80070021. Config Error: This configuration section cannot be used at this path. ' +
  'This happens when the section is locked at a parent level. Locking is either by default (overrideModeDefault="Deny"), or set explicitly ' +
  'by a location tag with overrideMode="Deny" or the legacy allowOverride="false".'

export const NO_FASTCGI_APP_TEXT = 'HTTP Error 500.0 - Internal Server Error. <handler> scriptProcessor could not be found in <fastCGI> application configuration'

export interface IisStandinOptions {
  /** The appcmd double's state file. */
  configPath: string
  site?: string
  /** Longest wait for a backend to accept connections after it was started. */
  backendStartMs?: number
}

export interface BackendInfo {
  pid: number
  physicalPath: string
  env: Record<string, string>
}

export interface IisStandin {
  url: string
  port: number
  /** Requests answered, by how: 'static', 'fastcgi' or an error status. */
  served(): string[]
  /** The running backend (the FastCGI worker), if any. */
  backend(): BackendInfo | undefined
  /** How many backends were started: a changed path or environment starts a new one. */
  backendStarts(): number
  close(): Promise<void>
}

interface Handler {
  name: string
  path: string
  modules: string
  scriptProcessor: string
}

interface App {
  siteId: string
  appPath: string
  physicalPath: string
  staticPath?: string
}

interface FastCgiApp {
  fullPath: string
  arguments: string
  env: Record<string, string>
}

interface Backend extends BackendInfo {
  key: string
  port: number
  child: ChildProcess
  exited: boolean
  stderr: string
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    text: string
  ) {
    super(text)
  }
}

const children = (el: Element | null | undefined, name?: string): Element[] => {
  const out: Element[] = []
  if (!el) return out
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && (name === undefined || n.nodeName === name)) out.push(n as Element)
  return out
}
const child = (el: Element | null | undefined, ...names: string[]): Element | undefined => {
  let cur: Element | undefined = el ?? undefined
  for (const name of names) cur = children(cur, name)[0]
  return cur
}
const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

function parse(text: string): Element {
  const doc = new DOMParser().parseFromString(text, 'text/xml')
  if (!doc.documentElement) throw new HttpError(500, 'HTTP Error 500.19: configuration file is not well-formed XML')
  return doc.documentElement
}

function readXml(file: string): Element | undefined {
  return fs.existsSync(file) ? parse(fs.readFileSync(file, 'utf8')) : undefined
}

function handlersOf(configuration: Element | undefined): Element | undefined {
  return child(configuration, 'system.webServer', 'handlers')
}

/** Applies one config level's <handlers> to the inherited list: a level's own adds precede what it inherits. */
function applyHandlers(inherited: Handler[], handlers: Element | undefined): Handler[] {
  if (!handlers) return inherited
  let list = [...inherited]
  const added: Handler[] = []
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
      added.push({ name, path: el.getAttribute('path') ?? '*', modules: el.getAttribute('modules') ?? '', scriptProcessor: el.getAttribute('scriptProcessor') ?? '' })
    }
  }
  return [...added, ...list]
}

function pathMatches(pattern: string, file: string): boolean {
  if (pattern === '*') return true
  const re = new RegExp('^' + pattern.split('*').map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i')
  return re.test(file)
}

/** Whether a web.config at `location` (e.g. "Default Web Site/app") may declare the handlers section. */
function handlersUnlocked(root: Element, location: string): boolean {
  const group = children(child(root, 'configSections')).find(g => g.getAttribute('name') === 'system.webServer')
  const decl = children(group, 'section').find(s => s.getAttribute('name') === 'handlers')
  let mode = decl?.getAttribute('overrideModeDefault') || 'Allow'
  const applies = (p: string): boolean => p === '' || same(p, location) || location.toLowerCase().startsWith(`${p.toLowerCase()}/`)
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

function findApp(root: Element, siteName: string, urlPath: string): App {
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
  const staticVdir = vdirs.find(v => same(v.getAttribute('path') ?? '', '/static'))
  if (!rootVdir) throw new HttpError(500, 'HTTP Error 500.0: application has no root virtual directory')
  return {
    siteId: site.getAttribute('id') ?? '1',
    appPath: found.p,
    physicalPath: rootVdir.getAttribute('physicalPath') ?? '',
    staticPath: staticVdir?.getAttribute('physicalPath') ?? undefined
  }
}

function fastCgiApps(root: Element): FastCgiApp[] {
  return children(child(root, 'system.webServer', 'fastCgi'), 'application').map(a => {
    const env: Record<string, string> = {}
    for (const v of children(child(a, 'environmentVariables'), 'environmentVariable')) env[v.getAttribute('name') ?? ''] = v.getAttribute('value') ?? ''
    return { fullPath: a.getAttribute('fullPath') ?? '', arguments: a.getAttribute('arguments') ?? '', env }
  })
}

function waitForPort(port: number, backend: Backend, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export async function startIisStandin(opts: IisStandinOptions): Promise<IisStandin> {
  const siteName = opts.site ?? 'Default Web Site'
  const startMs = opts.backendStartMs ?? 30_000
  const served: string[] = []
  let backend: Backend | undefined
  let starts = 0
  let starting: Promise<Backend> | undefined

  const stopBackend = async (): Promise<void> => {
    const b = backend
    backend = undefined
    if (!b || b.exited) return
    await new Promise<void>(resolve => {
      b.child.once('exit', () => resolve())
      b.child.kill('SIGTERM')
    })
  }

  const ensureBackend = async (app: App, fcgi: FastCgiApp): Promise<Backend> => {
    const key = JSON.stringify([app.physicalPath, app.appPath, fcgi.fullPath, fcgi.arguments, fcgi.env])
    if (backend && backend.key === key && !backend.exited) return backend
    if (starting) {
      const b = await starting
      if (b.key === key) return b
    }
    starting = (async () => {
      await stopBackend()
      const port = await freePort()
      // Exactly the registration's variables: nothing of the test process's environment reaches the app.
      const proc = spawn(fcgi.fullPath, [LAUNCHER, String(port), app.appPath, app.siteId], { cwd: app.physicalPath, env: { ...fcgi.env }, stdio: ['ignore', 'ignore', 'pipe'] })
      const b: Backend = { key, port, child: proc, exited: false, stderr: '', pid: proc.pid ?? -1, physicalPath: app.physicalPath, env: { ...fcgi.env } }
      proc.stderr?.on('data', (d: Buffer) => {
        b.stderr = (b.stderr + d.toString()).slice(-8000)
      })
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

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, port: number): Promise<void> =>
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

  const serveStatic = (res: http.ServerResponse, dir: string | undefined, rel: string): void => {
    if (!dir) throw new HttpError(404, 'HTTP Error 404.0 - Not Found')
    const file = path.resolve(dir, ...rel.split('/').filter(Boolean))
    if (!file.startsWith(path.resolve(dir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new HttpError(404, 'HTTP Error 404.0 - Not Found')
    }
    const type = MIME[path.extname(file).toLowerCase()]
    if (!type) throw new HttpError(404, 'HTTP Error 404.3 - Not Found: the MIME map has no entry for this extension')
    res.writeHead(200, { 'content-type': type, server: 'Microsoft-IIS/10.0 (stand-in)' })
    res.end(fs.readFileSync(file))
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<string> => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://stand-in').pathname)
    const root = parse(fs.readFileSync(opts.configPath, 'utf8'))
    const app = findApp(root, siteName, urlPath)
    const location = `${siteName}${app.appPath}`
    const appConfig = readXml(path.join(app.physicalPath, 'web.config'))
    if (handlersOf(appConfig) && !handlersUnlocked(root, location)) throw new HttpError(500, LOCKED_SECTION_TEXT)
    let handlers = applyHandlers(applyHandlers([], handlersOf(root)), handlersOf(appConfig))

    const rest = urlPath.slice(app.appPath.length)
    const inStatic = app.staticPath !== undefined && /^\/static(\/|$)/i.test(rest)
    const rel = inStatic ? rest.replace(/^\/static/i, '') : rest
    if (inStatic) {
      const staticConfig = readXml(path.join(app.staticPath ?? '', 'web.config'))
      if (handlersOf(staticConfig) && !handlersUnlocked(root, `${location}/static`)) throw new HttpError(500, LOCKED_SECTION_TEXT)
      handlers = applyHandlers(handlers, handlersOf(staticConfig))
    }
    const fileName = rel.split('/').pop() ?? ''
    const handler = handlers.find(h => pathMatches(h.path, fileName || '*'))
    if (!handler) throw new HttpError(404, 'HTTP Error 404.0 - Not Found (no handler)')
    const modules = handler.modules.toLowerCase()
    if (modules.includes('fastcgimodule')) {
      const fcgi = fastCgiApps(root).find(a => `${a.fullPath}|${a.arguments}` === handler.scriptProcessor)
      if (!fcgi) throw new HttpError(500, NO_FASTCGI_APP_TEXT)
      const b = await ensureBackend(app, fcgi)
      await forward(req, res, b.port)
      return 'fastcgi'
    }
    if (modules.includes('staticfilemodule')) {
      serveStatic(res, inStatic ? app.staticPath : app.physicalPath, rel)
      return 'static'
    }
    throw new HttpError(500, `HTTP Error 500.21: the stand-in does not emulate module "${handler.modules}" (handler ${handler.name})`)
  }

  const server = http.createServer((req, res) => {
    handle(req, res).then(
      how => served.push(how),
      (e: unknown) => {
        const status = e instanceof HttpError ? e.status : 500
        served.push(String(status))
        if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', server: 'Microsoft-IIS/10.0 (stand-in)' })
        res.end(e instanceof Error ? e.message : String(e))
      }
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    served: () => [...served],
    backend: () => (backend && !backend.exited ? { pid: backend.pid, physicalPath: backend.physicalPath, env: { ...backend.env } } : undefined),
    backendStarts: () => starts,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
      await stopBackend()
    }
  }
}
