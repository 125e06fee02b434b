// add/set/delete of sites, apps, vdirs and pools, and start/stop/recycle: the success lines and refusals of
// docs/windows-facts.md (ac-added, ac-deleted, ac-set-vdir, ac-add-vdir, ac-delete-vdir, ac-dup-object,
// ac-notfound-verb).
import type { Document, Element } from '@xmldom/xmldom'
import {
  AppcmdError,
  EXIT,
  fail,
  identifierFrom,
  optionValue,
  propertyOptions,
  requireOption,
  same,
  unknownAttribute,
  type Option
} from './appcmd-args.js'
import {
  allApps,
  allPools,
  allSites,
  allVdirs,
  appName,
  findOne,
  poolDefaults,
  poolElements,
  poolsElement,
  siteElements,
  sitesElement,
  vdirName
} from './appcmd-objects.js'
import { BOOLEANS, encryptPassword, IDENTITY_TYPES, START_MODES } from './appcmd-schema.js'
import { child, detach, elements, ensureChild, runtimeState, stateOf, writeAtomic, type StatePaths } from './appcmd-store.js'

export interface VerbResult {
  stdout: string
  /** Whether the configuration changed and must be written back; runtime state is written by the verb itself. */
  changed: boolean
}

function applyPoolProperties(doc: Document, pool: Element, options: readonly Option[]): void {
  for (const o of propertyOptions(options)) {
    if (same(o.name, 'name') || same(o.name, 'apppool.name')) continue
    const value = o.value ?? ''
    if (same(o.name, 'managedRuntimeVersion')) pool.setAttribute('managedRuntimeVersion', value)
    else if (same(o.name, 'managedPipelineMode')) {
      if (!['Integrated', 'Classic'].some(m => same(m, value)))
        fail(EXIT.invalidParameter, `Invalid enumeration value "${value}" for attribute "managedPipelineMode".`)
      pool.setAttribute('managedPipelineMode', value)
    } else if (same(o.name, 'startMode')) {
      const mode = START_MODES.find(m => same(m, value))
      if (!mode) fail(EXIT.invalidParameter, `Invalid enumeration value "${value}" for attribute "startMode".`)
      pool.setAttribute('startMode', mode ?? value)
    } else if (same(o.name, 'autoStart') || same(o.name, 'enable32BitAppOnWin64')) {
      pool.setAttribute(o.name, value)
    } else if (/^processModel\./i.test(o.name)) {
      const attr = o.name.slice('processModel.'.length)
      const known = ['identityType', 'userName', 'password', 'loadUserProfile', 'idleTimeout']
      const name = known.find(k => same(k, attr))
      if (!name) return unknownAttribute(o.name)
      let v: string | undefined = value
      if (name === 'identityType') {
        v = IDENTITY_TYPES.find(t => same(t, value))
        if (!v) fail(EXIT.invalidParameter, `Invalid enumeration value "${value}" for attribute "identityType".`)
      }
      if (name === 'password') v = encryptPassword(value)
      ensureChild(doc, pool, 'processModel').setAttribute(name, v ?? '')
    } else unknownAttribute(o.name)
  }
}

function addApp(doc: Document, site: Element, appPath: string, options: readonly Option[], lines: string[]): void {
  const existing = elements(site).filter(e => e.nodeName === 'application')
  if (existing.some(a => same(a.getAttribute('path'), appPath))) {
    fail(EXIT.duplicate, `Failed to add duplicate collection element "${site.getAttribute('name')}${appPath === '/' ? '/' : appPath}".`)
  }
  const app = doc.createElement('application')
  app.setAttribute('path', appPath)
  const pool = optionValue(options, 'applicationPool')
  if (pool !== undefined) app.setAttribute('applicationPool', pool)
  const bindings = child(site, 'bindings')
  site.insertBefore(app, bindings ?? null)
  lines.push(`APP object "${appName(site, app)}" added`)
  const physicalPath = optionValue(options, 'physicalPath')
  if (physicalPath !== undefined) {
    const vdir = doc.createElement('virtualDirectory')
    vdir.setAttribute('path', '/')
    vdir.setAttribute('physicalPath', physicalPath)
    app.appendChild(vdir)
    lines.push(`VDIR object "${vdirName(site, app, vdir)}" added`)
  }
}

const SERVICE_ALREADY_RUNNING =
  'ERROR ( hresult:80070420, message:Command execution failed.\nAn instance of the service is already running.\n\n )'
const SERVICE_NOT_ACTIVE = 'ERROR ( hresult:80070426, message:Command execution failed.\nThe service has not been started.\n\n )'
const toText = (lines: readonly string[]): string => lines.map(l => `${l}\n`).join('')

export function objectVerb(
  verb: string,
  object: string,
  doc: Document,
  paths: StatePaths,
  identifier: string | undefined,
  options: readonly Option[]
): VerbResult {
  const runtime = runtimeState(paths)
  const lines: string[] = []
  const key = `${verb} ${object}`
  switch (key) {
    case 'add apppool': {
      const name = requireOption(options, 'name', 'APPPOOL')
      if (poolElements(doc).some(p => same(p.getAttribute('name'), name)))
        fail(EXIT.duplicate, `Failed to add duplicate collection element "${name}".`)
      const pool = doc.createElement('add')
      pool.setAttribute('name', name)
      applyPoolProperties(doc, pool, options)
      poolsElement(doc)!.insertBefore(pool, poolDefaults(doc) ?? null)
      lines.push(`APPPOOL object "${name}" added`)
      break
    }
    case 'set apppool': {
      const pool = findOne(allPools(doc, runtime), 'APPPOOL', identifierFrom(identifier, options, 'apppool.name', 'name'))
      applyPoolProperties(doc, pool.element!, options)
      lines.push(`APPPOOL object "${pool.name}" changed`)
      break
    }
    case 'delete apppool': {
      const pool = findOne(allPools(doc, runtime), 'APPPOOL', identifierFrom(identifier, options, 'apppool.name', 'name'))
      detach(pool.element!)
      lines.push(`APPPOOL object "${pool.name}" deleted`)
      break
    }
    case 'add site': {
      const name = requireOption(options, 'name', 'SITE')
      if (siteElements(doc).some(s => same(s.getAttribute('name'), name)))
        fail(EXIT.duplicate, `Failed to add duplicate collection element "${name}".`)
      const ids = siteElements(doc).map(s => Number(s.getAttribute('id')))
      const site = doc.createElement('site')
      site.setAttribute('name', name)
      site.setAttribute('id', optionValue(options, 'id') ?? String(Math.max(0, ...ids) + 1))
      const firstNonSite = elements(sitesElement(doc)).find(e => e.nodeName !== 'site')
      sitesElement(doc)!.insertBefore(site, firstNonSite ?? null)
      const bindings = ensureChild(doc, site, 'bindings')
      for (const b of (optionValue(options, 'bindings') ?? '').split(',').filter(Boolean)) {
        const slash = b.indexOf('/')
        const binding = doc.createElement('binding')
        binding.setAttribute('protocol', b.slice(0, slash))
        binding.setAttribute('bindingInformation', b.slice(slash + 1))
        bindings.appendChild(binding)
      }
      // A site's own <applicationDefaults applicationPool>: every app of the site without its own pool runs there
      // (docs/windows-facts.md, ac-add-site-defaults); appcmd sets nested properties of the new site by dotted name.
      const sitePool = optionValue(options, 'applicationDefaults.applicationPool')
      if (sitePool !== undefined) {
        const defaults = doc.createElement('applicationDefaults')
        defaults.setAttribute('applicationPool', sitePool)
        site.insertBefore(defaults, bindings)
      }
      lines.push(`SITE object "${name}" added`)
      if (optionValue(options, 'physicalPath') !== undefined) addApp(doc, site, '/', options, lines)
      break
    }
    case 'delete site': {
      const site = findOne(allSites(doc, runtime), 'SITE', identifierFrom(identifier, options, 'site.name', 'name'))
      detach(site.element!)
      lines.push(`SITE object "${site.name}" deleted`)
      break
    }
    case 'add app': {
      const siteName = requireOption(options, 'site.name', 'APP')
      const site = findOne(allSites(doc, runtime), 'SITE', siteName)
      const appPath = requireOption(options, 'path', 'APP')
      if (!appPath.startsWith('/')) fail(EXIT.invalidParameter, `Invalid application path "${appPath}".`)
      addApp(doc, site.element!, appPath, options, lines)
      break
    }
    case 'set app': {
      const app = findOne(allApps(doc), 'APP', identifierFrom(identifier, options, 'app.name'))
      for (const o of propertyOptions(options)) {
        if (same(o.name, 'app.name')) continue
        if (same(o.name, 'applicationPool')) app.element.setAttribute('applicationPool', o.value ?? '')
        else if (same(o.name, 'preloadEnabled')) {
          const value = BOOLEANS.find(b => same(b, o.value))
          if (!value) fail(EXIT.invalidParameter, `Invalid boolean value "${o.value ?? ''}" for attribute "preloadEnabled".`)
          app.element.setAttribute('preloadEnabled', value ?? '')
        } else if (same(o.name, 'enabledProtocols')) app.element.setAttribute(o.name, o.value ?? '')
        else unknownAttribute(o.name)
      }
      lines.push(`APP object "${app.name}" changed`)
      break
    }
    case 'delete app': {
      const app = findOne(allApps(doc), 'APP', identifierFrom(identifier, options, 'app.name'))
      detach(app.element)
      lines.push(`APP object "${app.name}" deleted`)
      break
    }
    case 'add vdir': {
      const app = findOne(allApps(doc), 'APP', requireOption(options, 'app.name', 'VDIR'))
      const vpath = requireOption(options, 'path', 'VDIR')
      if (elements(app.element).some(v => v.nodeName === 'virtualDirectory' && same(v.getAttribute('path'), vpath))) {
        fail(EXIT.duplicate, `Failed to add duplicate collection element "${vpath}".`)
      }
      const vdir = doc.createElement('virtualDirectory')
      vdir.setAttribute('path', vpath)
      const physicalPath = optionValue(options, 'physicalPath')
      if (physicalPath !== undefined) vdir.setAttribute('physicalPath', physicalPath)
      app.element.appendChild(vdir)
      lines.push(`VDIR object "${vdirName(app.site, app.element, vdir)}" added`)
      break
    }
    case 'set vdir': {
      const vdir = findOne(allVdirs(doc), 'VDIR', identifierFrom(identifier, options, 'vdir.name'))
      for (const o of propertyOptions(options)) {
        if (same(o.name, 'vdir.name')) continue
        if (same(o.name, 'physicalPath')) vdir.element!.setAttribute('physicalPath', o.value ?? '')
        else unknownAttribute(o.name)
      }
      lines.push(`VDIR object "${vdir.name}" changed`)
      break
    }
    case 'delete vdir': {
      const vdir = findOne(allVdirs(doc), 'VDIR', identifierFrom(identifier, options, 'vdir.name'))
      detach(vdir.element!)
      lines.push(`VDIR object "${vdir.name}" deleted`)
      break
    }
    case 'start site':
    case 'stop site':
    case 'start apppool':
    case 'stop apppool': {
      const isSite = object === 'site'
      const list = isSite ? allSites(doc, runtime) : allPools(doc, runtime)
      const obj = findOne(
        list,
        isSite ? 'SITE' : 'APPPOOL',
        identifierFrom(identifier, options, isSite ? 'site.name' : 'apppool.name', 'name')
      )
      const kind = isSite ? 'sites' : 'pools'
      const wanted = verb === 'start' ? 'Started' : 'Stopped'
      if (stateOf(runtime, kind, obj.name) === wanted) {
        // ERROR_SERVICE_ALREADY_RUNNING (1056) / ERROR_SERVICE_NOT_ACTIVE (1062) as HRESULTs.
        throw verb === 'start'
          ? new AppcmdError(EXIT.serviceAlreadyRunning, SERVICE_ALREADY_RUNNING)
          : new AppcmdError(EXIT.serviceNotActive, SERVICE_NOT_ACTIVE)
      }
      runtime[kind][obj.name.toLowerCase()] = wanted
      writeAtomic(paths.runtime, JSON.stringify(runtime))
      lines.push(`"${obj.name}" successfully ${verb === 'start' ? 'started' : 'stopped'}.`)
      return { stdout: toText(lines), changed: false }
    }
    case 'recycle apppool': {
      const pool = findOne(allPools(doc, runtime), 'APPPOOL', identifierFrom(identifier, options, 'apppool.name', 'name'))
      if (stateOf(runtime, 'pools', pool.name) === 'Stopped') throw new AppcmdError(EXIT.serviceNotActive, SERVICE_NOT_ACTIVE)
      // Counted beside the started/stopped state: the IIS stand-in starts the pool's next worker process from it.
      const key = pool.name.toLowerCase()
      runtime.recycled = { ...runtime.recycled, [key]: (runtime.recycled?.[key] ?? 0) + 1 }
      writeAtomic(paths.runtime, JSON.stringify(runtime))
      lines.push(`"${pool.name}" successfully recycled`)
      return { stdout: toText(lines), changed: false }
    }
    default:
      fail(EXIT.invalidParameter, `appcmd double: "${verb} ${object}" is not supported.`)
  }
  return { stdout: toText(lines), changed: true }
}
