// Sites, apps, vdirs and pools as `list` shows them: their identifiers (ac-ids), text lines (ac-list-text),
// /xml attributes (ac-xml-shape), /config elements (ac-config-xml) and the answer when nothing matches
// (ac-list-miss-id, ac-list-miss-filter), all rows of docs/windows-facts.md.
import type { Document, Element } from '@xmldom/xmldom'
import { EXIT, fail, hasOption, notFound, propertyOptions, same, unknownAttribute, type Option } from './appcmd-args.js'
import { decryptPassword } from './appcmd-schema.js'
import { child, cloneElement, elements, escapeAttr, serializeElement, stateOf, XML_DECL, type Runtime } from './appcmd-store.js'

export type ObjectType = 'SITE' | 'APP' | 'VDIR' | 'APPPOOL' | 'BACKUP'

export interface IisObject {
  type: ObjectType
  name: string
  element?: Element
  props: Record<string, string | null>
}
export interface AppObject extends IisObject {
  site: Element
  element: Element
}

export interface Answer {
  stdout: string
  exitCode: number
}

export function sitesElement(doc: Document): Element | undefined {
  return child(child(doc.documentElement, 'system.applicationHost'), 'sites')
}
export function poolsElement(doc: Document): Element | undefined {
  return child(child(doc.documentElement, 'system.applicationHost'), 'applicationPools')
}
export const siteElements = (doc: Document): Element[] => elements(sitesElement(doc)).filter(e => e.nodeName === 'site')
export const poolElements = (doc: Document): Element[] => elements(poolsElement(doc)).filter(e => e.nodeName === 'add')
export const appName = (site: Element, app: Element): string =>
  `${site.getAttribute('name')}${app.getAttribute('path') === '/' ? '/' : app.getAttribute('path')}`
export function vdirName(site: Element, app: Element, vdir: Element): string {
  const base = appName(site, app)
  const vpath = vdir.getAttribute('path')
  if (vpath === '/') return base.endsWith('/') ? base : `${base}/`
  return `${base.replace(/\/$/, '')}${vpath}`
}

/** The pool of an app without its own: its site's <applicationDefaults>, else the server's (ac-add-site-defaults). */
function defaultPool(doc: Document, site?: Element): string {
  const own = site ? child(site, 'applicationDefaults')?.getAttribute('applicationPool') : undefined
  return own || child(sitesElement(doc), 'applicationDefaults')?.getAttribute('applicationPool') || 'DefaultAppPool'
}
export function poolDefaults(doc: Document): Element | undefined {
  return child(poolsElement(doc), 'applicationPoolDefaults')
}

const nameOf = (el: Element): string => el.getAttribute('name') ?? ''

export function allSites(doc: Document, runtime: Runtime): IisObject[] {
  return siteElements(doc).map(site => ({
    type: 'SITE',
    name: nameOf(site),
    element: site,
    props: {
      'site.name': site.getAttribute('name'),
      name: site.getAttribute('name'),
      'site.id': site.getAttribute('id'),
      id: site.getAttribute('id'),
      bindings: elements(child(site, 'bindings'))
        .filter(b => b.nodeName === 'binding')
        .map(b => `${b.getAttribute('protocol')}/${b.getAttribute('bindingInformation')}`)
        .join(','),
      state: stateOf(runtime, 'sites', nameOf(site))
    }
  }))
}

export function allApps(doc: Document): AppObject[] {
  const out: AppObject[] = []
  for (const site of siteElements(doc)) {
    for (const app of elements(site).filter(e => e.nodeName === 'application')) {
      const name = appName(site, app)
      out.push({
        type: 'APP',
        name,
        site,
        element: app,
        props: {
          'app.name': name,
          'apppool.name': app.getAttribute('applicationPool') || defaultPool(doc, site),
          applicationPool: app.getAttribute('applicationPool') || defaultPool(doc, site),
          'site.name': site.getAttribute('name'),
          path: app.getAttribute('path')
        }
      })
    }
  }
  return out
}

export function allVdirs(doc: Document): IisObject[] {
  const out: IisObject[] = []
  for (const app of allApps(doc)) {
    for (const vdir of elements(app.element).filter(e => e.nodeName === 'virtualDirectory')) {
      const name = vdirName(app.site, app.element, vdir)
      out.push({
        type: 'VDIR',
        name,
        element: vdir,
        props: { 'vdir.name': name, 'app.name': app.name, physicalPath: vdir.getAttribute('physicalPath'), path: vdir.getAttribute('path') }
      })
    }
  }
  return out
}

function effectivePool(doc: Document, pool: Element): { runtimeVersion: string; pipeline: string; identity: string } {
  const defaults = poolDefaults(doc)
  const runtimeVersion = pool.hasAttribute('managedRuntimeVersion')
    ? (pool.getAttribute('managedRuntimeVersion') ?? '')
    : (defaults?.getAttribute('managedRuntimeVersion') ?? 'v4.0')
  const pipeline = pool.getAttribute('managedPipelineMode') || defaults?.getAttribute('managedPipelineMode') || 'Integrated'
  const identity =
    child(pool, 'processModel')?.getAttribute('identityType') ||
    child(defaults, 'processModel')?.getAttribute('identityType') ||
    'ApplicationPoolIdentity'
  return { runtimeVersion, pipeline, identity }
}

export function allPools(doc: Document, runtime: Runtime): IisObject[] {
  return poolElements(doc).map(pool => {
    const name = nameOf(pool)
    const eff = effectivePool(doc, pool)
    return {
      type: 'APPPOOL',
      name,
      element: pool,
      props: {
        'apppool.name': name,
        name,
        managedRuntimeVersion: eff.runtimeVersion,
        managedPipelineMode: eff.pipeline,
        'processModel.identityType': eff.identity,
        state: stateOf(runtime, 'pools', name)
      }
    }
  })
}

export function findOne<T extends IisObject>(list: readonly T[], type: string, id: string | undefined): T {
  const found = list.find(o => same(o.name, id))
  if (!found) notFound(type, id ?? '')
  return found as T
}

// ---------------------------------------------------------------- list output

function textLine(obj: IisObject): string {
  const p = obj.props
  switch (obj.type) {
    case 'SITE':
      return `SITE "${obj.name}" (id:${p.id},bindings:${p.bindings},state:${p.state})`
    case 'APP':
      return `APP "${obj.name}" (applicationPool:${p.applicationPool})`
    case 'VDIR':
      return `VDIR "${obj.name}" (physicalPath:${p.physicalPath})`
    case 'APPPOOL':
      return `APPPOOL "${obj.name}" (MgdVersion:${p.managedRuntimeVersion},MgdMode:${p.managedPipelineMode},state:${p.state})`
    case 'BACKUP':
      return `BACKUP "${obj.name}"`
  }
}

function xmlAttributes(obj: Pick<IisObject, 'type' | 'props'> & { name?: string }): Record<string, string | null | undefined> {
  const p = obj.props
  switch (obj.type) {
    case 'SITE':
      return { 'SITE.NAME': obj.name, 'SITE.ID': p.id, bindings: p.bindings, state: p.state }
    case 'APP':
      return { 'APP.NAME': obj.name, 'APPPOOL.NAME': p.applicationPool, 'SITE.NAME': p['site.name'], path: p.path }
    case 'VDIR':
      return { 'VDIR.NAME': obj.name, 'APP.NAME': p['app.name'], physicalPath: p.physicalPath, path: p.path }
    case 'APPPOOL':
      return { 'APPPOOL.NAME': obj.name, PipelineMode: p.managedPipelineMode, RuntimeVersion: p.managedRuntimeVersion, state: p.state }
    case 'BACKUP':
      return { 'BACKUP.NAME': obj.name }
  }
}

/** The raw config element of an object, with the effective values appcmd reports filled in. */
function configElement(doc: Document, obj: IisObject & { element: Element }): Element {
  const copy = cloneElement(obj.element)
  const fillPools = (el: Element): void => {
    for (const app of el.nodeName === 'application' ? [el] : elements(el).filter(e => e.nodeName === 'application')) {
      const site = obj.element.nodeName === 'site' ? obj.element : (obj.element.parentNode as Element | null)
      if (!app.hasAttribute('applicationPool')) app.setAttribute('applicationPool', defaultPool(doc, site ?? undefined))
    }
  }
  if (obj.type === 'SITE' || obj.type === 'APP') fillPools(copy)
  if (obj.type === 'APPPOOL') {
    const eff = effectivePool(doc, obj.element)
    if (!copy.hasAttribute('managedRuntimeVersion')) copy.setAttribute('managedRuntimeVersion', eff.runtimeVersion)
    if (!copy.hasAttribute('managedPipelineMode')) copy.setAttribute('managedPipelineMode', eff.pipeline)
    let pm = child(copy, 'processModel')
    if (!pm) {
      pm = doc.createElement('processModel')
      copy.appendChild(pm)
    }
    if (!pm.hasAttribute('identityType')) pm.setAttribute('identityType', eff.identity)
    if (pm.hasAttribute('password')) pm.setAttribute('password', decryptPassword(pm.getAttribute('password') ?? ''))
  }
  return copy
}

function renderList(doc: Document | undefined, objects: readonly IisObject[], options: readonly Option[]): string {
  if (hasOption(options, 'xml')) {
    if (objects.length === 0) return `${XML_DECL}<appcmd>\n</appcmd>\n`
    const withConfig = hasOption(options, 'config')
    const body = objects
      .map(obj => {
        const head = `    <${obj.type}${Object.entries(xmlAttributes(obj))
          .map(([k, v]) => ` ${k}="${escapeAttr(v ?? '')}"`)
          .join('')}`
        if (!withConfig || !obj.element || !doc) return `${head} />\n`
        return `${head}>\n${serializeElement(configElement(doc, { ...obj, element: obj.element }), 2)}    </${obj.type}>\n`
      })
      .join('')
    return `${XML_DECL}<appcmd>\n${body}</appcmd>\n`
  }
  return objects.map(o => `${textLine(o)}\n`).join('')
}

const LIST_MISS_FORMS = ['exit1-empty', 'exit0-xml', 'exit0-xml-selfclosing', 'not-found']

/** `list <object> <identifier>` that finds nothing, in the form APPCMD_DOUBLE_LIST_MISS (`missForm`) chooses. */
function listMiss(type: string, identifier: string, options: readonly Option[], missForm: string | undefined): Answer {
  const form = missForm || 'exit1-empty'
  if (!LIST_MISS_FORMS.includes(form))
    fail(EXIT.invalidParameter, `appcmd double: APPCMD_DOUBLE_LIST_MISS "${form}" is not one of ${LIST_MISS_FORMS.join(', ')}.`)
  if (form === 'not-found') notFound(type, identifier)
  if (form === 'exit1-empty') return { stdout: '', exitCode: EXIT.emptyList }
  if (!hasOption(options, 'xml')) return { stdout: '', exitCode: EXIT.ok }
  const body = form === 'exit0-xml' ? '<appcmd>\n</appcmd>\n' : '<appcmd />\n'
  return { stdout: `${XML_DECL}${body}`, exitCode: EXIT.ok }
}

export function listObjects(
  type: ObjectType,
  objects: readonly IisObject[],
  identifier: string | undefined,
  options: readonly Option[],
  doc: Document | undefined,
  missForm: string | undefined
): Answer {
  let matched = objects
  if (identifier !== undefined) {
    matched = objects.filter(o => same(o.name, identifier))
    if (matched.length === 0) return listMiss(type, identifier, options, missForm)
  }
  for (const filter of propertyOptions(options)) {
    const key = Object.keys(objects[0]?.props ?? xmlAttributes({ type, props: {} })).find(k => same(k, filter.name))
    if (key === undefined && objects.length > 0) unknownAttribute(filter.name)
    matched = matched.filter(o => key !== undefined && same(o.props[key] ?? '', filter.value ?? ''))
  }
  const output = renderList(doc, matched, options)
  return { stdout: output, exitCode: matched.length === 0 ? EXIT.emptyList : EXIT.ok }
}
