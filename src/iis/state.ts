import type { Element } from '@xmldom/xmldom'
import { asError, PhaseError } from '../errors.js'
import { parseXmlStrict } from '../render/xml.js'
import type { DesiredState } from '../plan/types.js'
import { appId, locationPath, sameName } from './app-location.js'
import { LocationRecord } from './location-record.js'
import type { Appcmd } from './appcmd.js'
import type { FastCgiRecord, PoolPasswordRecord, RecordedState, WarmUpRecord, WindowsAuthRecord } from './location-record.js'

/**
 * What the state read needs: the names of the target, nothing of the release. A DesiredState is one; main also
 * builds one from the inputs alone, to read IIS before it stages.
 */
export interface StateQuery {
  hosting: DesiredState['hosting']
  pool: { name: string }
  app: { site: string; path: string }
}

export interface NameValue {
  name: string
  value: string
}

export interface FastCgiApp {
  fullPath: string
  arguments: string
  env: NameValue[]
}

/** What IIS holds now for one target, as far as the diff needs it. */
export interface CurrentState {
  /** startMode and preloadEnabled as stored; absent when the attribute is (IIS then uses its default). */
  pool: { exists: boolean; identity?: string; managedRuntimeVersion?: string; userName?: string; startMode?: string }
  site: { exists: boolean; id: number; bindings: { protocol: string; bindingInformation: string }[] }
  app: { exists: boolean; pool?: string; physicalPath?: string; preloadEnabled?: string }
  /** The app's virtual directories other than its root ('/assets', '/static', ...), whoever made them. */
  vdirs: { path: string; physicalPath: string }[]
  fastCgi: FastCgiApp[]
  /** Whether system.webServer/handlers is known to be unlocked at the app's location. */
  handlersUnlocked: boolean
  /** Anonymous requests at the app run as the pool identity (from the deploy-root record, like handlersUnlocked). */
  anonymousAsPool: boolean
  /** The location-scoped httpPlatform variables this tool set (see location-record.ts); read when any can exist. */
  httpPlatformEnv?: NameValue[]
  /** From the deploy-root record: Windows Authentication as this tool set it (src/plan/auth-ops.ts). */
  windowsAuth?: WindowsAuthRecord
  /** From the deploy-root record: a salted hash of the pool password this tool set (src/plan/identity-ops.ts). */
  poolPassword?: PoolPasswordRecord
  /** From the deploy-root record: the FastCGI registration this tool last left (src/iis/fastcgi-record.ts). */
  fastCgiRecord?: FastCgiRecord
  /** The fastCgi section was not read yet: settleFastCgi completes it once the release is staged. */
  fastCgiDeferred?: true
  /** From the deploy-root record: warm-up as this tool set it (src/plan/warm-up-ops.ts). */
  warmUp?: WarmUpRecord
}

export interface ReadOptions {
  /**
   * Leave the server-wide fastCgi section unread when the record names our registration: whether the record can
   * stand for it is known only after staging (settleFastCgi in src/iis/fastcgi-record.ts).
   */
  deferFastCgi?: boolean
}

function parse(xml: string, what: string): Element {
  try {
    const root = parseXmlStrict(xml.trim() || '<appcmd/>', `appcmd's XML for ${what}`).documentElement
    if (!root) throw new Error(`appcmd's XML for ${what} has no document element`)
    return root
  } catch (err) {
    throw new PhaseError('apply', `${asError(err).message}; the appcmd output could not be read`)
  }
}

function children(el: Element, name: string): Element[] {
  const out: Element[] = []
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).nodeName.toLowerCase() === name.toLowerCase()) out.push(n as Element)
  }
  return out
}

function attr(el: Element, name: string): string | undefined {
  return el.hasAttribute(name) ? (el.getAttribute(name) ?? '') : undefined
}

/** `appcmd list apppool P /config /xml`. */
export function parsePool(xml: string, name: string): CurrentState['pool'] {
  const root = parse(xml, `app pool ${name}`)
  const wrapper = children(root, 'APPPOOL').find(e => sameName(attr(e, 'APPPOOL.NAME'), name))
  if (!wrapper) return { exists: false }
  const add = children(wrapper, 'add')[0]
  const model = add ? children(add, 'processModel')[0] : undefined
  return {
    exists: true,
    // IIS 7.5+ defaults the identity to ApplicationPoolIdentity when processModel does not say.
    identity: (model && attr(model, 'identityType')) || 'ApplicationPoolIdentity',
    managedRuntimeVersion: (add && attr(add, 'managedRuntimeVersion')) ?? attr(wrapper, 'RuntimeVersion') ?? 'v4.0',
    ...(add && attr(add, 'startMode') ? { startMode: attr(add, 'startMode') } : {}),
    // The password is never kept: the read may show it decrypted (docs/windows-facts.md, ac-pool-password).
    ...(model && attr(model, 'userName') ? { userName: attr(model, 'userName') } : {})
  }
}

/** The application's path relative to its site, as IIS stores it: '/' or '/app'. */
function normalAppPath(p: string): string {
  return p === '/' ? '/' : `/${p.replace(/^\/+|\/+$/g, '')}`
}

/**
 * `appcmd list site "S" /config /xml`: site id and bindings, the application and all its vdirs in one read, so the
 * static vdir STATIC_URL asks for (known only after staging) and a stale one are both visible without another call.
 */
export function parseSite(xml: string, desired: StateQuery): Pick<CurrentState, 'site' | 'app' | 'vdirs'> {
  const root = parse(xml, `site ${desired.app.site}`)
  const wrapper = children(root, 'SITE').find(e => sameName(attr(e, 'SITE.NAME'), desired.app.site))
  const site = wrapper ? children(wrapper, 'site')[0] : undefined
  if (!wrapper || !site) {
    return { site: { exists: false, id: 0, bindings: [] }, app: { exists: false }, vdirs: [] }
  }
  const bindingsEl = children(site, 'bindings')[0]
  const bindings = (bindingsEl ? children(bindingsEl, 'binding') : []).map(b => ({
    protocol: attr(b, 'protocol') ?? '',
    bindingInformation: attr(b, 'bindingInformation') ?? ''
  }))
  const id = Number(attr(site, 'id') ?? attr(wrapper, 'SITE.ID') ?? '0')
  const application = children(site, 'application').find(a =>
    sameName(normalAppPath(attr(a, 'path') ?? ''), normalAppPath(desired.app.path))
  )
  if (!application) return { site: { exists: true, id, bindings }, app: { exists: false }, vdirs: [] }
  const vdirs = children(application, 'virtualDirectory')
  const rootVdir = vdirs.find(v => attr(v, 'path') === '/')
  return {
    site: { exists: true, id, bindings },
    // An application without applicationPool runs in the site's default pool; '' makes the diff set ours.
    app: {
      exists: true,
      pool: attr(application, 'applicationPool') ?? '',
      physicalPath: rootVdir ? attr(rootVdir, 'physicalPath') : undefined,
      ...(attr(application, 'preloadEnabled') ? { preloadEnabled: attr(application, 'preloadEnabled') } : {})
    },
    vdirs: vdirs
      .map(v => ({ path: normalAppPath(attr(v, 'path') ?? ''), physicalPath: attr(v, 'physicalPath') ?? '' }))
      .filter(v => v.path !== '/')
  }
}

function sectionElement(root: Element, section: string): Element | undefined {
  const config = children(root, 'CONFIG')[0]
  if (!config) return undefined
  return children(config, section.replace(/\//g, '-'))[0]
}

function environment(el: Element): NameValue[] {
  const vars = children(el, 'environmentVariables')[0]
  return (vars ? children(vars, 'environmentVariable') : []).map(v => ({ name: attr(v, 'name') ?? '', value: attr(v, 'value') ?? '' }))
}

/** The server-wide fastCgi section: every FastCGI application of the server (parsed by parseFastCgi). */
export function readFastCgiSection(appcmd: Appcmd): Promise<string> {
  return appcmd.read('list', 'config', '-section:system.webServer/fastCgi', '/xml')
}

/** `appcmd list config -section:system.webServer/fastCgi /xml`. */
export function parseFastCgi(xml: string): FastCgiApp[] {
  const section = sectionElement(parse(xml, 'system.webServer/fastCgi'), 'system.webServer/fastCgi')
  if (!section) return []
  return children(section, 'application').map(a => ({
    fullPath: attr(a, 'fullPath') ?? '',
    arguments: attr(a, 'arguments') ?? '',
    env: environment(a)
  }))
}

/** `appcmd list config "S/app" -section:system.webServer/httpPlatform /xml`. */
export function parseHttpPlatformEnv(xml: string): NameValue[] {
  const section = sectionElement(parse(xml, 'system.webServer/httpPlatform'), 'system.webServer/httpPlatform')
  return section ? environment(section) : []
}

/** A missing object is an answer, not a failure: `Appcmd.list` knows each form appcmd may give it in. */
async function listOrEmpty(appcmd: Appcmd, ...argv: string[]): Promise<string> {
  return (await appcmd.list(...argv)) ?? '<appcmd></appcmd>'
}

/** Waits for every read, then gives their answers in order or throws the first failure in that order. */
async function settledInOrder(reads: Promise<string>[]): Promise<string[]> {
  const settled = await Promise.allSettled(reads)
  return settled.map(r => {
    if (r.status === 'rejected') throw r.reason
    return r.value
  })
}

/**
 * Reads the target's current state: pool, site (with its applications and vdirs), fastCgi; three reads (side
 * by side) for fastcgi hosting, a fourth for httpplatform's location-scoped variables. Whether handlers are unlocked is
 * not visible in these reads, so the caller passes what the deploy-root record says (see location-record.ts).
 */
export async function readState(appcmd: Appcmd, desired: StateQuery, known: RecordedState, opts: ReadOptions = {}): Promise<CurrentState> {
  const { handlersUnlocked, anonymousAsPool, httpPlatformNames: ownedHttpPlatformNames } = known
  const defer = opts.deferFastCgi === true && desired.hosting === 'fastcgi' && known.fastCgi !== undefined
  // The reads run side by side: each starts an appcmd process, and none depends on another's answer. Settled
  // before any is looked at, so a failed read never goes unhandled while another is awaited.
  const [poolXml, siteXml, fastCgiXml] = await settledInOrder([
    listOrEmpty(appcmd, 'list', 'apppool', desired.pool.name, '/config', '/xml'),
    listOrEmpty(appcmd, 'list', 'site', desired.app.site, '/config', '/xml'),
    defer ? Promise.resolve('') : readFastCgiSection(appcmd)
  ])
  const pool = parsePool(poolXml, desired.pool.name)
  const fromSite = parseSite(siteXml, desired)
  if (!fromSite.site.exists) {
    throw new PhaseError(
      'apply',
      `IIS has no site named '${desired.app.site}'`,
      'set site-name to an existing IIS site (appcmd list sites shows them), or create the site first'
    )
  }
  const fastCgi = defer ? [] : parseFastCgi(fastCgiXml)
  const { windowsAuth, poolPassword, fastCgi: fastCgiRecord, warmUp } = known
  const state: CurrentState = {
    pool,
    ...fromSite,
    fastCgi,
    handlersUnlocked,
    anonymousAsPool,
    windowsAuth,
    poolPassword,
    fastCgiRecord,
    warmUp
  }
  if (defer) state.fastCgiDeferred = true
  // A fourth read only where httpPlatform variables are ours: hosting httpplatform, or a switch back from it.
  if (fromSite.app.exists && (desired.hosting === 'httpplatform' || ownedHttpPlatformNames.length > 0)) {
    const owned = new Set(ownedHttpPlatformNames.map(n => n.toLowerCase()))
    const merged = parseHttpPlatformEnv(
      await appcmd.read('list', 'config', appId(desired.app), '-section:system.webServer/httpPlatform', '/xml')
    )
    // The read merges the live release's web.config; its variables are the release's, not applicationHost's.
    state.httpPlatformEnv = merged.filter(v => owned.has(v.name.toLowerCase()))
  }
  return state
}

/** readState with what deploy-root's location record knows (src/iis/location-record.ts). */
export async function readStateAt(appcmd: Appcmd, desired: StateQuery, deployRoot: string, opts: ReadOptions = {}): Promise<CurrentState> {
  return readState(appcmd, desired, LocationRecord.read(deployRoot).known(locationPath(desired.app)), opts)
}
