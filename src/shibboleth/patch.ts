import type { Element } from '@xmldom/xmldom'
import { InputError } from '../errors.js'
import type { AddedElement } from './entry-record.js'
import { parseXmlStrict, xmlEscape } from '../render/xml.js'
import { Editor, type Block } from './text-editor.js'
import { mapSource, type SourceElement } from './xml-source.js'

/** SP 3 reads configs written for either namespace. */
export const SP_NAMESPACES = ['urn:mace:shibboleth:3.0:native:sp:config', 'urn:mace:shibboleth:2.0:native:sp:config']

/** The sequence of SPConfig children in shibboleth-3.0-native-sp-config.xsd: a new element goes before its successors. */
const SPCONFIG_ORDER = [
  'Extensions',
  'OutOfProcess',
  'InProcess',
  'UnixListener',
  'TCPListener',
  'Listener',
  'StorageService',
  'DataSealer',
  'SessionCache',
  'ReplayCache',
  'ArtifactMap',
  'RequestMapper',
  'ApplicationDefaults',
  'SecurityPolicyProvider',
  'ProtocolProvider',
  'TransportOption',
  'Signature'
]

/** RFC 2606 names: the SP's shipped files map site 1 to sp.example.org, a placeholder nobody serves. */
const PLACEHOLDER_HOST = /(^|\.)example\.(org|com|net)$/i

export interface ShibbolethWant {
  /** IIS site id, read from IIS: the ISAPI Site must carry it or the RequestMap Host never matches. */
  siteId: number
  host: string
  /** The app's IIS path, '/app' or '/' for the whole site. */
  appPath: string
  /** Attribute ids for ApplicationDefaults/@REMOTE_USER; empty leaves the attribute alone. */
  remoteUser: string[]
}

export interface PatchResult {
  text: string
  changed: boolean
  /** One readable line per change, for the log and the plan. */
  changes: string[]
  /** The RequestMap element the patch inserted for the app, if any (src/shibboleth/entry-record.ts). */
  added?: AddedElement
}

/**
 * The RequestMap Path name for an app path: no leading or trailing slash, lower case (the SP matches paths in
 * lower case only), '' for the whole host. A Path named "" or "/" is invalid or ignored by the SP, so the whole
 * host is protected by settings on the Host element itself.
 */
export function pathName(appPath: string): string {
  return appPath.replace(/^\/+|\/+$/g, '').toLowerCase()
}

function validateWant(want: ShibbolethWant): void {
  if (!Number.isInteger(want.siteId) || want.siteId < 1 || want.siteId > 0xffffffff) {
    throw new InputError('site-name', `IIS site id ${want.siteId} is not a positive whole number`)
  }
  if (!/^[A-Za-z0-9.-]+$/.test(want.host)) {
    throw new InputError('shibboleth-host', `'${want.host}' is not a host name; give the name clients use, e.g. app.example.edu`)
  }
  if (!want.appPath.startsWith('/')) throw new InputError('app-path', `'${want.appPath}' must start with /`)
}

function sameHost(a: string | null, b: string): boolean {
  return (a ?? '').toLowerCase() === b.toLowerCase()
}

function followsIn(order: string[], name: string): (localName: string) => boolean {
  const index = order.indexOf(name)
  return localName => order.indexOf(localName) > index
}

function ensureSite(ed: Editor, root: Element, want: ShibbolethWant, changes: string[]): void {
  const host = xmlEscape(want.host)
  const site = (parent: Element): string => `<${ed.qname(parent, 'Site')} id="${want.siteId}" name="${host}"/>`
  const isapiBlock = (parent: Element): Block => {
    const isapi = ed.qname(parent, 'ISAPI')
    return [
      [0, `<${isapi} normalizeRequest="true" safeHeaderNames="true">`],
      [1, site(parent)],
      [0, `</${isapi}>`]
    ]
  }
  const inProcess = ed.children(root, 'InProcess')[0]
  if (!inProcess) {
    const name = ed.qname(root, 'InProcess')
    ed.insertChild(
      root,
      [[0, `<${name}>`], ...isapiBlock(root).map(([d, l]): [number, string] => [d + 1, l]), [0, `</${name}>`]],
      followsIn(SPCONFIG_ORDER, 'InProcess')
    )
    changes.push(`added InProcess/ISAPI with Site id="${want.siteId}" name="${want.host}"`)
    return
  }
  const isapi = ed.children(inProcess, 'ISAPI')[0]
  if (!isapi) {
    ed.insertChild(inProcess, isapiBlock(inProcess), localName => localName !== 'Extensions')
    changes.push(`added ISAPI with Site id="${want.siteId}" name="${want.host}" to InProcess`)
    return
  }
  const existing = ed.children(isapi, 'Site').find(s => Number(s.getAttribute('id')) === want.siteId)
  if (!existing) {
    ed.insertChild(isapi, [[0, site(isapi)]], () => false)
    changes.push(`added ISAPI Site id="${want.siteId}" name="${want.host}"`)
    return
  }
  const name = existing.getAttribute('name') ?? ''
  if (sameHost(name, want.host)) return
  // An Alias makes the site answer to our host too; the RequestMap Host for it is what protects the app.
  const aliases = ed.children(existing, 'Alias').map(a => (a.textContent ?? '').trim())
  if (aliases.some(a => sameHost(a, want.host))) return
  if (!PLACEHOLDER_HOST.test(name)) {
    throw new InputError(
      'shibboleth-host',
      `shibboleth2.xml maps IIS site id ${want.siteId} to '${name}', not '${want.host}'; set shibboleth-host to '${name}', or add <Alias>${want.host}</Alias> to that Site by hand (renaming it would break the other apps that Host '${name}' serves)`
    )
  }
  ed.setAttribute(existing, 'name', want.host)
  changes.push(`renamed ISAPI Site id="${want.siteId}" from the placeholder '${name}' to '${want.host}'`)
}

function ensureRequestMap(ed: Editor, root: Element, want: ShibbolethWant, changes: string[]): AddedElement | undefined {
  const path = pathName(want.appPath)
  const host = xmlEscape(want.host)
  const where = path ? `Host '${want.host}' Path '${path}'` : `Host '${want.host}' (whole host)`
  const pathLine = (parent: Element): string =>
    `<${ed.qname(parent, 'Path')} name="${xmlEscape(path)}" authType="shibboleth" requireSession="true"/>`
  const hostBlock = (parent: Element): Block => {
    const name = ed.qname(parent, 'Host')
    if (!path) return [[0, `<${name} name="${host}" authType="shibboleth" requireSession="true"/>`]]
    return [
      [0, `<${name} name="${host}">`],
      [1, pathLine(parent)],
      [0, `</${name}>`]
    ]
  }
  const mapBlock = (parent: Element): Block => {
    const name = ed.qname(parent, 'RequestMap')
    return [[0, `<${name}>`], ...hostBlock(parent).map(([d, l]): [number, string] => [d + 1, l]), [0, `</${name}>`]]
  }

  const mapper = ed.children(root, 'RequestMapper')[0]
  if (!mapper) {
    const name = ed.qname(root, 'RequestMapper')
    const block: Block = [
      [0, `<${name} type="Native">`],
      ...mapBlock(root).map(([d, l]): [number, string] => [d + 1, l]),
      [0, `</${name}>`]
    ]
    ed.insertChild(root, block, followsIn(SPCONFIG_ORDER, 'RequestMapper'))
    changes.push(`added RequestMapper type="Native" protecting ${where}`)
    return 'RequestMapper'
  }
  const type = mapper.getAttribute('type') ?? ''
  if (type !== 'Native' && type !== 'XML') {
    throw new InputError(
      'shibboleth-config',
      `its RequestMapper is type="${type}", which this action cannot edit; use type="Native" with a RequestMap, or protect the app path yourself and set shibboleth: false`
    )
  }
  const map = ed.children(mapper, 'RequestMap')[0]
  if (!map) {
    ed.insertChild(mapper, mapBlock(mapper), () => false)
    changes.push(`added RequestMap protecting ${where}`)
    return 'RequestMap'
  }
  const hostElement = ed.children(map, 'Host').find(h => sameHost(h.getAttribute('name'), want.host))
  if (!hostElement) {
    ed.insertChild(map, hostBlock(map), localName => localName === 'Signature')
    changes.push(`added RequestMap ${where}`)
    return 'Host'
  }
  let target = hostElement
  if (path) {
    const existing = ed.children(hostElement, 'Path').find(p => pathName(p.getAttribute('name') ?? '') === path)
    if (!existing) {
      ed.insertChild(hostElement, [[0, pathLine(hostElement)]], () => false)
      changes.push(`added RequestMap ${where}`)
      return 'Path'
    }
    target = existing
  }
  // The SP matches Path names in lower case only: a 'MyApp' written by hand would never match.
  if (target !== hostElement && ed.setAttribute(target, 'name', path)) changes.push(`renamed RequestMap ${where} to lower case`)
  const authType = ed.setAttribute(target, 'authType', 'shibboleth')
  const requireSession = ed.setAttribute(target, 'requireSession', 'true')
  if (authType || requireSession) changes.push(`set authType="shibboleth" requireSession="true" on RequestMap ${where}`)
  return undefined
}

function ensureRemoteUser(ed: Editor, applicationDefaults: Element, want: ShibbolethWant, changes: string[]): void {
  if (want.remoteUser.length === 0) return
  const current = (applicationDefaults.getAttribute('REMOTE_USER') ?? '').split(/\s+/).filter(Boolean)
  if (current.join(' ') === want.remoteUser.join(' ')) return
  ed.setAttribute(applicationDefaults, 'REMOTE_USER', want.remoteUser.join(' '))
  changes.push(`set ApplicationDefaults REMOTE_USER="${want.remoteUser.join(' ')}"${current.length ? ` (was "${current.join(' ')}")` : ''}`)
}

function refuse(problem: string): never {
  throw new InputError('shibboleth-config', `${problem}; fix the file or restore it from a backup, then run again`)
}

/**
 * Patches shibboleth2.xml text so the SP maps the IIS site to the host and requires a session under the app path.
 * Everything else (comments, other Sites, Hosts and Paths, attribute order and quotes, XML declaration, BOM, line
 * endings, indentation) is kept byte for byte. Patching its own output changes nothing.
 */
export function patchShibbolethConfig(text: string, want: ShibbolethWant): PatchResult {
  validateWant(want)
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : ''
  const body = text.slice(bom.length)
  let doc
  try {
    doc = parseXmlStrict(body, 'the file')
  } catch (e) {
    refuse((e as Error).message)
  }
  const root = doc.documentElement
  if (!root || root.localName !== 'SPConfig' || !SP_NAMESPACES.includes(root.namespaceURI ?? '')) {
    const found = root ? `<${root.tagName}>${root.namespaceURI ? ` in namespace ${root.namespaceURI}` : ''}` : 'no element'
    refuse(`its root is ${found}, not a Shibboleth SP <SPConfig xmlns="${SP_NAMESPACES[0]}">`)
  }
  let source: Map<Element, SourceElement>
  try {
    source = mapSource(doc, body)
  } catch (e) {
    refuse(`it cannot be edited in place: ${(e as Error).message}`)
  }
  const ed = new Editor(body, source, root.namespaceURI ?? '')
  const applicationDefaults = ed.children(root, 'ApplicationDefaults')[0]
  if (!applicationDefaults) refuse('it has no <ApplicationDefaults>, which every SPConfig requires')

  const changes: string[] = []
  ensureSite(ed, root, want, changes)
  const added = ensureRequestMap(ed, root, want, changes)
  ensureRemoteUser(ed, applicationDefaults, want, changes)

  const out = bom + ed.apply()
  try {
    parseXmlStrict(out.slice(bom.length), 'the patched shibboleth2.xml')
  } catch (e) {
    throw new Error(`internal error: ${(e as Error).message}`)
  }
  return { text: out, changed: out !== text, changes, ...(added ? { added } : {}) }
}

/** The SP's default Sessions/@handlerURL. */
export const DEFAULT_HANDLER_PATH = '/Shibboleth.sso'

/**
 * The path under which the SP answers (login redirects go there): ApplicationDefaults/Sessions/@handlerURL, its path
 * part when it is a full URL, else /Shibboleth.sso. For verify: an unauthenticated request to the protected path
 * must redirect here.
 */
export function sessionHandlerPath(text: string): string {
  let doc
  try {
    doc = parseXmlStrict(text.replace(/^\uFEFF/, ''), 'shibboleth2.xml')
  } catch {
    return DEFAULT_HANDLER_PATH
  }
  const root = doc.documentElement
  const ns = root?.namespaceURI ?? ''
  const app = root ? Array.from(root.getElementsByTagNameNS(ns, 'ApplicationDefaults'))[0] : undefined
  const sessions = app ? Array.from(app.getElementsByTagNameNS(ns, 'Sessions'))[0] : undefined
  const handler = sessions?.getAttribute('handlerURL')?.trim()
  if (!handler) return DEFAULT_HANDLER_PATH
  const pathPart = /^[a-z][a-z0-9+.-]*:\/\//i.test(handler) ? new URL(handler).pathname : handler
  return `/${pathPart.replace(/^\/+|\/+$/g, '')}`
}
