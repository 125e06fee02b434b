#!/usr/bin/env node
// Test double of %windir%\system32\inetsrv\appcmd.exe, faithful to /work/shared/iis-facts.md.
// Its state is a real applicationHost.config file; product code runs it as a process and must never import it.
//
// Environment:
//   APPCMD_DOUBLE_CONFIG       path of the applicationHost.config state file (required; created from
//                              applicationHost.seed.config beside this file when it does not exist yet)
//   APPCMD_DOUBLE_BACKUPS      folder holding backups as <NAME>/applicationHost.config
//                              (default: a "backup" folder beside the state file)
//   APPCMD_DOUBLE_LOG          JSON-lines call log, one {argv, exitCode, mutating, stdout} per call
//   APPCMD_DOUBLE_FAIL_AT      k (1-based), or k1,k2,...: the k-th mutating call, counted across processes from the log,
//                              fails with exit 32 "Failed to commit configuration changes" and changes nothing
//   APPCMD_DOUBLE_FAIL_AT_FILE file holding k, read when APPCMD_DOUBLE_FAIL_AT is unset (lets a test arm a
//                              failure after the environment was handed to the code under test)
//   APPCMD_DOUBLE_LIST_MISS    how `list <object> <identifier>` answers when nothing has that identifier (not
//                              settled for real appcmd, so each plausible form can be chosen):
//                              exit1-empty (default): exit 1, no output at all, /xml or not; lextm/jexusmanager's
//                                appcmd clone, JexusManager.CLI/AppCmdEngine.cs (list: exit 1 when a name was given
//                                and nothing printed), test ListMissingSiteSilentlyFails in
//                                Tests.JexusManager/AppCmd/AppCmdTestFixture.cs
//                              exit0-xml: exit 0; with /xml an empty `<appcmd>` element (the help text's "match
//                                zero or more" read as a search that found none)
//                              exit0-xml-selfclosing: exit 0; with /xml `<appcmd />`
//                              not-found: exit 1168 + `Cannot find <TYPE> object with identifier "<id>".`, the
//                                form start/stop/recycle of a missing object give (jexusmanager StartMissingSiteFails)
//
// Behaviour notes:
// - Every verb except `list` counts as mutating (add, set, delete, unlock, start, stop, recycle, restore).
// - Errors go to stdout as `ERROR ( message:... )`, stderr stays empty; exit codes are the Windows numbers,
//   which Linux reports modulo 256 (1168 → 144, 4312 → 216).
// - `list` with an identifier that matches nothing: see APPCMD_DOUBLE_LIST_MISS. `list` with filters only
//   that match nothing: no text (or an empty <appcmd> with /xml) and exit 1.
// - Runtime state (site/pool started or stopped) lives in "<state file>.runtime.json", not in the config,
//   so backups hold configuration only, as on IIS.
// - argv arrives without a shell: quotes inside an argument are literal characters, as when the product
//   passes ["set","config","-section:...","/+[fullPath='...']"]. A quoted indexer (/+"[...]") is malformed.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DOMParser } from '@xmldom/xmldom'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const APPHOST = 'MACHINE/WEBROOT/APPHOST'

const EXIT = {
  ok: 0,
  emptyList: 1,
  invalidData: 13,
  commitFailed: 32,
  invalidParameter: 87,
  duplicate: 183,
  serviceAlreadyRunning: 1056,
  serviceNotActive: 1062,
  notFound: 1168,
  elementNotFound: 4312
}

class AppcmdError extends Error {
  constructor(exitCode, text) {
    super(text)
    this.exitCode = exitCode
  }
}

const fail = (exitCode, message) => {
  throw new AppcmdError(exitCode, `ERROR ( message:${message} )`)
}
const notFound = (type, id) => fail(EXIT.notFound, `Cannot find ${type} object with identifier "${id}".`)
const unknownAttribute = name => fail(EXIT.invalidParameter, `Unknown attribute "${name}".  Replace with -? for help.`)
const malformedIndexer = () => fail(EXIT.invalidParameter, "Malformed collection indexer; format is [@position,name='value',...].")
const same = (a, b) => String(a).toLowerCase() === String(b).toLowerCase()

// ---------------------------------------------------------------- schema (only what the product touches)

const ENV_VARS = { collection: { add: 'environmentVariable', keys: ['name'], attrs: ['name', 'value'] } }
const FASTCGI_APP_ATTRS = [
  'fullPath',
  'arguments',
  'maxInstances',
  'idleTimeout',
  'activityTimeout',
  'requestTimeout',
  'instanceMaxRequests',
  'protocol',
  'queueLength',
  'flushNamedPipe',
  'rapidFailsPerMinute',
  'signalBeforeTerminateSeconds',
  'stderrMode',
  'monitorChangesTo'
]
const SCHEMA = {
  'system.webServer/fastCgi': {
    attrs: [],
    collection: {
      add: 'application',
      keys: ['fullPath', 'arguments'],
      attrs: FASTCGI_APP_ATTRS,
      children: { environmentVariables: ENV_VARS }
    }
  },
  'system.webServer/httpPlatform': {
    attrs: [
      'processPath',
      'arguments',
      'stdoutLogEnabled',
      'stdoutLogFile',
      'startupTimeLimit',
      'startupRetryCount',
      'rapidFailsPerMinute',
      'requestTimeout',
      'processesPerApplication',
      'forwardWindowsAuthToken'
    ],
    children: { environmentVariables: ENV_VARS }
  },
  'system.webServer/handlers': {
    attrs: ['accessPolicy'],
    collection: {
      add: 'add',
      keys: ['name'],
      attrs: ['name', 'path', 'verb', 'modules', 'scriptProcessor', 'resourceType', 'requireAccess', 'preCondition', 'type']
    }
  },
  'system.webServer/security/authentication/anonymousAuthentication': { attrs: ['enabled', 'userName', 'password', 'logonMethod'] },
  // Windows Authentication and the runtime's file-access user (docs/windows-facts.md, ac-windows-auth, ac-auth-user-override).
  'system.webServer/security/authentication/windowsAuthentication': {
    attrs: ['enabled', 'useKernelMode', 'useAppPoolCredentials', 'authPersistNonNTLM', 'authPersistSingleRequest'],
    children: { providers: { collection: { add: 'add', keys: ['value'], attrs: ['value'] } } }
  },
  'system.webServer/serverRuntime': { attrs: ['enabled', 'authenticatedUserOverride', 'uploadReadAheadSize'] },
  'system.webServer/defaultDocument': {
    attrs: ['enabled'],
    children: { files: { collection: { add: 'add', keys: ['value'], attrs: ['value'] } } }
  },
  'system.webServer/staticContent': {
    attrs: [],
    collection: { add: 'mimeMap', keys: ['fileExtension'], attrs: ['fileExtension', 'mimeType'] }
  }
}
const IDENTITY_TYPES = ['ApplicationPoolIdentity', 'LocalSystem', 'LocalService', 'NetworkService', 'SpecificUser']

// ---------------------------------------------------------------- pool passwords (ac-pool-password)
// appcmd writes processModel.password encrypted by the system.applicationHost provider, IISWASOnlyRsaProvider, in
// the [enc:<provider>:<data>:enc] form; the double's "encryption" is base64 of the reversed text, enough that the
// clear password never appears in the file. A /config read shows it decrypted (the worst case for leaks).
const ENCRYPTED = /^\[enc:([A-Za-z]+):([A-Za-z0-9+/=]*):enc\]$/
const encryptPassword = clear => `[enc:IISWASOnlyRsaProvider:${Buffer.from([...clear].reverse().join(''), 'utf8').toString('base64')}:enc]`
function decryptPassword(stored) {
  const m = ENCRYPTED.exec(stored)
  return m ? [...Buffer.from(m[2], 'base64').toString('utf8')].reverse().join('') : stored
}

// ---------------------------------------------------------------- argv

/** Splits argv after "<verb> <object>" into an identifier (first non-option) and options (-name:value or /name:value). */
function parseArgs(rest) {
  let identifier
  const options = []
  for (const arg of rest) {
    if (arg.startsWith('/') || arg.startsWith('-')) {
      const body = arg.slice(1)
      if (body.startsWith('+') || body.startsWith('-') || body.startsWith('[')) {
        options.push({ raw: body, name: undefined, value: undefined })
        continue
      }
      const colon = body.indexOf(':')
      const name = colon < 0 ? body : body.slice(0, colon)
      const value = colon < 0 ? undefined : body.slice(colon + 1)
      options.push({ raw: body, name, value })
    } else if (identifier === undefined) {
      identifier = arg
    } else {
      fail(EXIT.invalidParameter, `Unexpected argument "${arg}".`)
    }
  }
  return { identifier, options }
}

const GENERAL = ['xml', 'config', 'text', 'commit', 'section']
const optionValue = (options, name) => options.find(o => o.name !== undefined && same(o.name, name))?.value
const hasOption = (options, name) => options.some(o => o.name !== undefined && same(o.name, name))
const propertyOptions = options => options.filter(o => o.name !== undefined && !GENERAL.some(g => same(g, o.name)))

// ---------------------------------------------------------------- XML state

const env = process.env
function statePaths() {
  const config = env.APPCMD_DOUBLE_CONFIG
  if (!config) throw new AppcmdError(EXIT.invalidParameter, 'ERROR ( message:appcmd double: APPCMD_DOUBLE_CONFIG is not set. )')
  return {
    config,
    runtime: `${config}.runtime.json`,
    backups: env.APPCMD_DOUBLE_BACKUPS || path.join(path.dirname(config), 'backup'),
    lock: `${config}.lock`
  }
}

function writeAtomic(file, content) {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  fs.writeFileSync(temp, content)
  fs.renameSync(temp, file)
}

function loadDocument(paths) {
  if (!fs.existsSync(paths.config)) writeAtomic(paths.config, fs.readFileSync(path.join(HERE, 'applicationHost.seed.config')))
  const text = fs.readFileSync(paths.config, 'utf8')
  return new DOMParser().parseFromString(text, 'text/xml')
}

const elements = node => Array.from(node?.childNodes ?? []).filter(n => n.nodeType === 1)
const child = (node, name) => elements(node).find(e => e.nodeName === name)
function ensureChild(doc, node, name, before) {
  const existing = child(node, name)
  if (existing) return existing
  const created = doc.createElement(name)
  const anchor = before ? child(node, before) : undefined
  node.insertBefore(created, anchor ?? null)
  return created
}
const attrs = el => Array.from(el.attributes ?? [])

// Tab, CR and LF as character references: written raw, a re-read turns them into spaces (XML 1.0, 3.3.3
// attribute-value normalization). Whether IIS's writer does the same is assumed (docs/windows-facts.md, ac-value-verbatim).
const escapeAttr = v =>
  String(v)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;')

/** Serializes elements in IIS's own layout: 4-space indent, `<x a="v" />`, no mixed content. */
function serializeElement(el, depth) {
  const pad = '    '.repeat(depth)
  const head = `${pad}<${el.nodeName}${attrs(el)
    .map(a => ` ${a.name}="${escapeAttr(a.value)}"`)
    .join('')}`
  const kids = elements(el)
  if (kids.length === 0) return `${head} />\n`
  return `${head}>\n${kids.map(k => serializeElement(k, depth + 1)).join('')}${pad}</${el.nodeName}>\n`
}
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
const serializeDocument = doc => XML_DECL + serializeElement(doc.documentElement, 0)

// ---------------------------------------------------------------- sites, apps, vdirs, pools

function sitesElement(doc) {
  return child(child(doc.documentElement, 'system.applicationHost'), 'sites')
}
function poolsElement(doc) {
  return child(child(doc.documentElement, 'system.applicationHost'), 'applicationPools')
}
const siteElements = doc => elements(sitesElement(doc)).filter(e => e.nodeName === 'site')
const poolElements = doc => elements(poolsElement(doc)).filter(e => e.nodeName === 'add')
const appName = (site, app) => `${site.getAttribute('name')}${app.getAttribute('path') === '/' ? '/' : app.getAttribute('path')}`
function vdirName(site, app, vdir) {
  const base = appName(site, app)
  const vpath = vdir.getAttribute('path')
  if (vpath === '/') return base.endsWith('/') ? base : `${base}/`
  return `${base.replace(/\/$/, '')}${vpath}`
}

function defaultPool(doc) {
  return child(sitesElement(doc), 'applicationDefaults')?.getAttribute('applicationPool') || 'DefaultAppPool'
}
function poolDefaults(doc) {
  return child(poolsElement(doc), 'applicationPoolDefaults')
}

function runtimeState(paths) {
  try {
    return JSON.parse(fs.readFileSync(paths.runtime, 'utf8'))
  } catch {
    return { sites: {}, pools: {} }
  }
}
const stateOf = (runtime, kind, name) => runtime[kind][name.toLowerCase()] ?? 'Started'

function allSites(doc, runtime) {
  return siteElements(doc).map(site => ({
    type: 'SITE',
    name: site.getAttribute('name'),
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
      state: stateOf(runtime, 'sites', site.getAttribute('name'))
    }
  }))
}

function allApps(doc) {
  const out = []
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
          'apppool.name': app.getAttribute('applicationPool') || defaultPool(doc),
          applicationPool: app.getAttribute('applicationPool') || defaultPool(doc),
          'site.name': site.getAttribute('name'),
          path: app.getAttribute('path')
        }
      })
    }
  }
  return out
}

function allVdirs(doc) {
  const out = []
  for (const app of allApps(doc)) {
    for (const vdir of elements(app.element).filter(e => e.nodeName === 'virtualDirectory')) {
      const name = vdirName(app.site, app.element, vdir)
      out.push({
        type: 'VDIR',
        name,
        app,
        element: vdir,
        props: { 'vdir.name': name, 'app.name': app.name, physicalPath: vdir.getAttribute('physicalPath'), path: vdir.getAttribute('path') }
      })
    }
  }
  return out
}

function effectivePool(doc, pool) {
  const defaults = poolDefaults(doc)
  const runtimeVersion = pool.hasAttribute('managedRuntimeVersion')
    ? pool.getAttribute('managedRuntimeVersion')
    : (defaults?.getAttribute('managedRuntimeVersion') ?? 'v4.0')
  const pipeline = pool.getAttribute('managedPipelineMode') || defaults?.getAttribute('managedPipelineMode') || 'Integrated'
  const identity =
    child(pool, 'processModel')?.getAttribute('identityType') ||
    child(defaults, 'processModel')?.getAttribute('identityType') ||
    'ApplicationPoolIdentity'
  return { runtimeVersion, pipeline, identity }
}

function allPools(doc, runtime) {
  return poolElements(doc).map(pool => {
    const name = pool.getAttribute('name')
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

// ---------------------------------------------------------------- list output

function textLine(obj) {
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
  return ''
}

function xmlAttributes(obj) {
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
  return {}
}

/** The raw config element of an object, with the effective values appcmd reports filled in. */
function configElement(doc, obj) {
  const copy = obj.element.cloneNode(true)
  const fillPools = el => {
    for (const app of el.nodeName === 'application' ? [el] : elements(el).filter(e => e.nodeName === 'application')) {
      if (!app.hasAttribute('applicationPool')) app.setAttribute('applicationPool', defaultPool(doc))
    }
  }
  if (obj.type === 'SITE' || obj.type === 'APP') fillPools(copy)
  if (obj.type === 'APPPOOL') {
    const eff = effectivePool(doc, obj.element)
    if (!copy.hasAttribute('managedRuntimeVersion')) copy.setAttribute('managedRuntimeVersion', eff.runtimeVersion)
    if (!copy.hasAttribute('managedPipelineMode')) copy.setAttribute('managedPipelineMode', eff.pipeline)
    const pm = child(copy, 'processModel') ?? copy.appendChild(doc.createElement('processModel'))
    if (!pm.hasAttribute('identityType')) pm.setAttribute('identityType', eff.identity)
    if (pm.hasAttribute('password')) pm.setAttribute('password', decryptPassword(pm.getAttribute('password')))
  }
  return copy
}

function renderList(doc, objects, options) {
  if (hasOption(options, 'xml')) {
    if (objects.length === 0) return `${XML_DECL}<appcmd>\n</appcmd>\n`
    const withConfig = hasOption(options, 'config')
    const body = objects
      .map(obj => {
        const head = `    <${obj.type}${Object.entries(xmlAttributes(obj))
          .map(([k, v]) => ` ${k}="${escapeAttr(v ?? '')}"`)
          .join('')}`
        if (!withConfig || !obj.element) return `${head} />\n`
        return `${head}>\n${serializeElement(configElement(doc, obj), 2)}    </${obj.type}>\n`
      })
      .join('')
    return `${XML_DECL}<appcmd>\n${body}</appcmd>\n`
  }
  return objects.map(o => `${textLine(o)}\n`).join('')
}

const LIST_MISS_FORMS = ['exit1-empty', 'exit0-xml', 'exit0-xml-selfclosing', 'not-found']

/** `list <object> <identifier>` that finds nothing, in the form APPCMD_DOUBLE_LIST_MISS chooses. */
function listMiss(type, identifier, options) {
  const form = env.APPCMD_DOUBLE_LIST_MISS || 'exit1-empty'
  if (!LIST_MISS_FORMS.includes(form))
    fail(EXIT.invalidParameter, `appcmd double: APPCMD_DOUBLE_LIST_MISS "${form}" is not one of ${LIST_MISS_FORMS.join(', ')}.`)
  if (form === 'not-found') notFound(type, identifier)
  if (form === 'exit1-empty') return { stdout: '', exitCode: EXIT.emptyList }
  if (!hasOption(options, 'xml')) return { stdout: '', exitCode: EXIT.ok }
  const body = form === 'exit0-xml' ? '<appcmd>\n</appcmd>\n' : '<appcmd />\n'
  return { stdout: `${XML_DECL}${body}`, exitCode: EXIT.ok }
}

function listObjects(type, objects, identifier, options, doc) {
  let matched = objects
  if (identifier !== undefined) {
    matched = objects.filter(o => same(o.name, identifier))
    if (matched.length === 0) return listMiss(type, identifier, options)
  }
  for (const filter of propertyOptions(options)) {
    const key = Object.keys(objects[0]?.props ?? xmlAttributes({ type, props: {} })).find(k => same(k, filter.name))
    if (key === undefined && objects.length > 0) unknownAttribute(filter.name)
    matched = matched.filter(o => key !== undefined && same(o.props[key] ?? '', filter.value ?? ''))
  }
  const output = renderList(doc, matched, options)
  return { stdout: output, exitCode: matched.length === 0 ? EXIT.emptyList : EXIT.ok }
}

// ---------------------------------------------------------------- config sections and locations

function sectionName(raw) {
  if (!raw) fail(EXIT.invalidParameter, 'Missing -section parameter.')
  const known = Object.keys(SCHEMA).find(s => same(s, raw) || same(s.split('/').pop(), raw))
  if (!known) fail(EXIT.invalidParameter, `Unknown config section "${raw}".  Replace with ? for help.`)
  return known
}

/** Normalizes a configuration path argument: "", "MACHINE/WEBROOT/APPHOST" and "/" mean the apphost level. */
function locationPath(raw) {
  if (raw === undefined) return ''
  let p = raw.replace(/\\/g, '/')
  if (p.toUpperCase().startsWith(APPHOST)) p = p.slice(APPHOST.length)
  return p.replace(/^\/+/, '').replace(/\/+$/, '')
}
const configPathLabel = loc => (loc === '' ? APPHOST : `${APPHOST}/${loc}`)

const locations = doc => elements(doc.documentElement).filter(e => e.nodeName === 'location')
const locationPathOf = el => locationPath(el.getAttribute('path') ?? '')
const sectionSteps = section => section.split('/')

function sectionIn(container, section) {
  let node = container
  for (const step of sectionSteps(section)) {
    node = child(node, step)
    if (!node) return undefined
  }
  return node
}
function ensureSectionIn(doc, container, section) {
  let node = container
  for (const step of sectionSteps(section)) node = ensureChild(doc, node, step)
  return node
}

/** Finds or creates the element a `set config` writes to: the top level, or a <location path="..."> for a path. */
function targetSection(doc, section, loc) {
  if (loc === '') {
    const top = sectionIn(doc.documentElement, section)
    if (top) return top
    const unlocked = locations(doc).find(l => locationPathOf(l) === '' && sectionIn(l, section))
    if (unlocked) return sectionIn(unlocked, section)
    return ensureSectionIn(doc, doc.documentElement, section)
  }
  // A section may appear once per path in one file: write where it already is, whatever the overrideMode.
  const holding = locations(doc).find(l => same(locationPathOf(l), loc) && sectionIn(l, section))
  if (holding) return sectionIn(holding, section)
  let location = locations(doc).find(l => same(locationPathOf(l), loc) && !l.hasAttribute('overrideMode'))
  if (!location) {
    location = doc.createElement('location')
    location.setAttribute('path', loc)
    doc.documentElement.appendChild(location)
  }
  return ensureSectionIn(doc, location, section)
}

function sectionOverrideDefault(doc, section) {
  const [group, name] = [section.slice(0, section.lastIndexOf('/')), section.slice(section.lastIndexOf('/') + 1)]
  let node = child(doc.documentElement, 'configSections')
  for (const g of group.split('/')) node = elements(node).find(e => e.nodeName === 'sectionGroup' && e.getAttribute('name') === g)
  const decl = elements(node).find(e => e.nodeName === 'section' && e.getAttribute('name') === name)
  return decl?.getAttribute('overrideModeDefault') ?? 'Allow'
}

/** Whether a web.config at `loc` may declare the section: the nearest location that sets overrideMode wins. */
function lockedAt(doc, section, loc) {
  if (loc === '') return false
  let mode = sectionOverrideDefault(doc, section)
  const applicable = locations(doc)
    .filter(l => l.hasAttribute('overrideMode') && sectionIn(l, section))
    .filter(l => {
      const p = locationPathOf(l)
      return p === '' || same(p, loc) || loc.toLowerCase().startsWith(`${p.toLowerCase()}/`)
    })
    .sort((a, b) => locationPathOf(a).length - locationPathOf(b).length)
  for (const l of applicable) mode = l.getAttribute('overrideMode')
  return mode === 'Deny'
}

/** Effective section at a path: the top level, then each location on the way down, collections merged by key. */
function effectiveSection(doc, section, loc) {
  const name = section.replace(/\//g, '-')
  const result = doc.createElement(name)
  const schema = SCHEMA[section]
  const sources = [sectionIn(doc.documentElement, section)]
  const applicable = locations(doc)
    .filter(l => {
      const p = locationPathOf(l)
      return p === '' || (loc !== '' && (same(p, loc) || loc.toLowerCase().startsWith(`${p.toLowerCase()}/`)))
    })
    .sort((a, b) => locationPathOf(a).length - locationPathOf(b).length)
  for (const l of applicable) sources.push(sectionIn(l, section))
  for (const source of sources.filter(Boolean)) mergeInto(doc, result, source, schema)
  return result
}

function mergeInto(doc, target, source, schema) {
  for (const a of attrs(source)) target.setAttribute(a.name, a.value)
  for (const el of elements(source)) {
    const collection = schema?.collection
    if (collection && el.nodeName === collection.add) {
      const existing = elements(target).find(
        t => t.nodeName === collection.add && collection.keys.every(k => same(t.getAttribute(k) ?? '', el.getAttribute(k) ?? ''))
      )
      if (existing) target.removeChild(existing)
      target.appendChild(el.cloneNode(true))
    } else if (collection && el.nodeName === 'clear') {
      for (const t of elements(target).filter(t => t.nodeName === collection.add)) target.removeChild(t)
    } else {
      const childSchema = schema?.children?.[el.nodeName]
      const sub = ensureChild(doc, target, el.nodeName)
      mergeInto(doc, sub, el, childSchema)
    }
  }
}

// ---------------------------------------------------------------- set config expressions

/** Parses `[k='v',...].name.[k='v'].attr:value` into steps; a `'` inside a quoted value is refused as malformed. */
function parseExpression(text) {
  const steps = []
  let i = 0
  let value
  while (i < text.length) {
    if (text[i] === '[') {
      const pairs = []
      i++
      for (;;) {
        const eq = text.indexOf('=', i)
        if (eq < 0) malformedIndexer()
        const key = text.slice(i, eq).trim()
        if (!/^[A-Za-z][\w.]*$/.test(key)) malformedIndexer()
        i = eq + 1
        let v
        if (text[i] === "'") {
          const close = text.indexOf("'", i + 1)
          if (close < 0) malformedIndexer()
          v = text.slice(i + 1, close)
          i = close + 1
        } else {
          const end = text.slice(i).search(/[,\]]/)
          if (end < 0) malformedIndexer()
          v = text.slice(i, i + end)
          if (v.includes("'") || v.includes('[')) malformedIndexer()
          i += end
        }
        pairs.push([key, v])
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          break
        }
        malformedIndexer()
      }
      steps.push({ kind: 'index', pairs })
    } else {
      const m = /^[A-Za-z_][\w]*/.exec(text.slice(i))
      if (!m) {
        if (text[i] === '"' && text[i + 1] === '[') malformedIndexer()
        unknownAttribute(text.slice(i).split(/[.:]/)[0])
      }
      steps.push({ kind: 'name', name: m[0] })
      i += m[0].length
    }
    if (i >= text.length) break
    if (text[i] === '.') {
      i++
      if (i >= text.length) malformedIndexer()
      continue
    }
    if (text[i] === ':') {
      value = text.slice(i + 1)
      break
    }
    if (text[i] !== '[') malformedIndexer()
  }
  return { steps, value }
}

const duplicateMessage = (collection, element) => {
  const keys = collection.keys
  const values = keys.map(k => element.getAttribute(k) ?? '')
  const what =
    keys.length === 1
      ? `unique key attribute '${keys[0]}' set to '${values[0]}'`
      : `combined key attributes '${keys.join(', ')}' respectively set to '${values.join(', ')}'`
  return `New ${collection.add} object missing required attributes. Cannot add duplicate collection entry of type '${collection.add}' with ${what}\n\n. `
}

function findInCollection(node, collection, pairs) {
  for (const [k] of pairs) if (!collection.attrs.some(a => a === k)) unknownAttribute(k)
  return elements(node).find(e => e.nodeName === collection.add && pairs.every(([k, v]) => same(e.getAttribute(k) ?? '', v)))
}

function checkValue(collection, attr, value) {
  if (collection?.add === 'environmentVariable' && attr === 'value' && value === '') {
    fail(EXIT.invalidData, 'The data is invalid.')
  }
}

/** Applies one /+, /- or /...:value expression to a section element. */
function applyExpression(doc, sectionEl, schema, op, expr) {
  const { steps, value } = parseExpression(expr)
  if (steps.length === 0) malformedIndexer()
  let node = sectionEl
  let nodeSchema = schema
  for (let s = 0; s < steps.length; s++) {
    const step = steps[s]
    const last = s === steps.length - 1
    if (step.kind === 'name') {
      const childSchema = nodeSchema.children?.[step.name]
      if (childSchema) {
        node = op === '+' ? ensureChild(doc, node, step.name) : (child(node, step.name) ?? ensureChild(doc, node, step.name))
        nodeSchema = childSchema
        if (last) fail(EXIT.invalidParameter, `Cannot ${op === '+' ? 'add' : 'remove'} "${step.name}": it is not a collection element.`)
        continue
      }
      if (!last || op === '+') unknownAttribute(step.name)
      const allowed = nodeSchema.attrs ?? []
      if (!allowed.includes(step.name)) unknownAttribute(step.name)
      // `/-attr` (typed `--attr`) removes an attribute, as in appcmd's documented `--password`.
      if (op === '-') {
        node.removeAttribute(step.name)
        return
      }
      if (value === undefined) unknownAttribute(step.name)
      checkValue(nodeSchema.itemOf, step.name, value)
      node.setAttribute(step.name, value)
      return
    }
    const collection = nodeSchema.collection
    if (!collection) malformedIndexer()
    if (last && op === '+') {
      for (const [k] of step.pairs) if (!collection.attrs.includes(k)) unknownAttribute(k)
      const created = doc.createElement(collection.add)
      for (const [k, v] of step.pairs) {
        checkValue(collection, k, v)
        created.setAttribute(k, v)
      }
      if (collection.keys.some(k => !created.hasAttribute(k) || created.getAttribute(k) === '')) {
        fail(EXIT.invalidParameter, `New ${collection.add} object missing required attributes.`)
      }
      const keyPairs = collection.keys.map(k => [k, created.getAttribute(k)])
      if (findInCollection(node, collection, keyPairs))
        throw new AppcmdError(EXIT.duplicate, `ERROR ( message:${duplicateMessage(collection, created)})`)
      node.appendChild(created)
      return
    }
    const found = findInCollection(node, collection, step.pairs)
    if (!found) fail(EXIT.elementNotFound, 'Cannot find requested collection element.')
    if (last && op === '-') {
      node.removeChild(found)
      return
    }
    if (last) fail(EXIT.invalidParameter, 'Missing attribute to set after the collection indexer.')
    node = found
    nodeSchema = { attrs: collection.attrs, children: collection.children, itemOf: collection }
  }
}

function setConfig(doc, identifier, options) {
  const section = sectionName(optionValue(options, 'section'))
  const loc = locationPath(identifier)
  const commit = optionValue(options, 'commit')
  if (loc !== '' && !(commit && same(commit, 'apphost'))) {
    fail(EXIT.invalidParameter, 'appcmd double: set config at a location path is only supported with /commit:apphost.')
  }
  const expressions = options.filter(o => !GENERAL.some(g => o.name !== undefined && same(g, o.name)))
  if (expressions.length === 0) fail(EXIT.invalidParameter, 'Nothing to set.')
  const sectionEl = targetSection(doc, section, loc)
  for (const o of expressions) {
    const raw = o.raw
    const op = raw.startsWith('+') ? '+' : raw.startsWith('-') ? '-' : ''
    applyExpression(doc, sectionEl, SCHEMA[section], op, op ? raw.slice(1) : raw)
  }
  return `Applied configuration changes to section "${section}" for "${configPathLabel(loc)}" at configuration commit path "${APPHOST}"\n`
}

function unlockConfig(doc, identifier, options) {
  const section = sectionName(optionValue(options, 'section'))
  const loc = locationPath(identifier)
  let allow = locations(doc).find(l => same(locationPathOf(l), loc) && l.getAttribute('overrideMode') === 'Allow')
  if (allow && sectionIn(allow, section)) return unlockedMessage(section, loc)
  // The section's settings move with it: a section may appear only once per path in one file.
  let content
  if (loc === '') {
    content = sectionIn(doc.documentElement, section)
  } else {
    const plain = locations(doc).find(
      l => same(locationPathOf(l), loc) && l.getAttribute('overrideMode') !== 'Allow' && sectionIn(l, section)
    )
    content = plain ? sectionIn(plain, section) : undefined
  }
  if (!allow) {
    allow = doc.createElement('location')
    allow.setAttribute('path', loc)
    allow.setAttribute('overrideMode', 'Allow')
    doc.documentElement.appendChild(allow)
  }
  const steps = sectionSteps(section)
  const parent = ensureSectionIn(doc, allow, steps.slice(0, -1).join('/'))
  if (content) {
    content.parentNode.removeChild(content)
    parent.appendChild(content)
  } else {
    parent.appendChild(doc.createElement(steps[steps.length - 1]))
  }
  pruneEmptyLocations(doc)
  return unlockedMessage(section, loc)
}
const unlockedMessage = (section, loc) => `Unlocked section "${section}" at configuration path "${configPathLabel(loc)}".\n`

function pruneEmptyLocations(doc) {
  for (const l of locations(doc)) {
    if (elements(l).every(g => elements(g).length === 0)) doc.documentElement.removeChild(l)
  }
}

function listConfig(doc, identifier, options) {
  const section = sectionName(optionValue(options, 'section'))
  const loc = locationPath(identifier)
  const effective = effectiveSection(doc, section, loc)
  const locationAllow = locations(doc).find(l => same(locationPathOf(l), loc) && l.hasAttribute('overrideMode') && sectionIn(l, section))
  const overrideMode = locationAllow?.getAttribute('overrideMode') ?? 'Inherit'
  if (hasOption(options, 'xml')) {
    const head = `    <CONFIG CONFIG.SECTION="${section}" path="${escapeAttr(configPathLabel(loc))}" overrideMode="${overrideMode}" locked="${lockedAt(doc, section, loc)}">\n`
    return `${XML_DECL}<appcmd>\n${head}${serializeElement(effective, 2)}    </CONFIG>\n</appcmd>\n`
  }
  // Text output shows the section as configuration XML under its real element names.
  const steps = sectionSteps(section)
  let text = serializeElement(renameElement(doc, effective, steps[steps.length - 1]), steps.length - 1)
  for (let d = steps.length - 2; d >= 0; d--) text = `${'    '.repeat(d)}<${steps[d]}>\n${text}${'    '.repeat(d)}</${steps[d]}>\n`
  return text
}

function renameElement(doc, el, name) {
  const renamed = doc.createElement(name)
  for (const a of attrs(el)) renamed.setAttribute(a.name, a.value)
  for (const k of elements(el)) renamed.appendChild(k.cloneNode(true))
  return renamed
}

// ---------------------------------------------------------------- object verbs

function requireOption(options, name, type) {
  const value = optionValue(options, name)
  if (value === undefined || value === '') fail(EXIT.invalidParameter, `Missing required parameter "${name}" for ${type} object.`)
  return value
}

function applyPoolProperties(doc, pool, options) {
  for (const o of propertyOptions(options)) {
    if (same(o.name, 'name') || same(o.name, 'apppool.name')) continue
    const value = o.value ?? ''
    if (same(o.name, 'managedRuntimeVersion')) pool.setAttribute('managedRuntimeVersion', value)
    else if (same(o.name, 'managedPipelineMode')) {
      if (!['Integrated', 'Classic'].some(m => same(m, value)))
        fail(EXIT.invalidParameter, `Invalid enumeration value "${value}" for attribute "managedPipelineMode".`)
      pool.setAttribute('managedPipelineMode', value)
    } else if (same(o.name, 'autoStart') || same(o.name, 'startMode') || same(o.name, 'enable32BitAppOnWin64')) {
      pool.setAttribute(o.name, value)
    } else if (/^processModel\./i.test(o.name)) {
      const attr = o.name.slice('processModel.'.length)
      const known = ['identityType', 'userName', 'password', 'loadUserProfile', 'idleTimeout']
      const name = known.find(k => same(k, attr))
      if (!name) unknownAttribute(o.name)
      let v = value
      if (name === 'identityType') {
        v = IDENTITY_TYPES.find(t => same(t, value))
        if (!v) fail(EXIT.invalidParameter, `Invalid enumeration value "${value}" for attribute "identityType".`)
      }
      if (name === 'password') v = encryptPassword(v)
      ensureChild(doc, pool, 'processModel').setAttribute(name, v)
    } else unknownAttribute(o.name)
  }
}

function findOne(list, type, id) {
  const found = list.find(o => same(o.name, id))
  if (!found) notFound(type, id)
  return found
}

function identifierFrom(identifier, options, ...names) {
  if (identifier !== undefined) return identifier
  for (const n of names) {
    const v = optionValue(options, n)
    if (v !== undefined) return v
  }
  return undefined
}

function addApp(doc, site, appPath, options, lines) {
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

function objectVerb(verb, object, doc, paths, identifier, options) {
  const runtime = runtimeState(paths)
  const lines = []
  const key = `${verb} ${object}`
  switch (key) {
    case 'add apppool': {
      const name = requireOption(options, 'name', 'APPPOOL')
      if (poolElements(doc).some(p => same(p.getAttribute('name'), name)))
        fail(EXIT.duplicate, `Failed to add duplicate collection element "${name}".`)
      const pool = doc.createElement('add')
      pool.setAttribute('name', name)
      applyPoolProperties(doc, pool, options)
      poolsElement(doc).insertBefore(pool, poolDefaults(doc) ?? null)
      lines.push(`APPPOOL object "${name}" added`)
      break
    }
    case 'set apppool': {
      const pool = findOne(allPools(doc, runtime), 'APPPOOL', identifierFrom(identifier, options, 'apppool.name', 'name'))
      applyPoolProperties(doc, pool.element, options)
      lines.push(`APPPOOL object "${pool.name}" changed`)
      break
    }
    case 'delete apppool': {
      const pool = findOne(allPools(doc, runtime), 'APPPOOL', identifierFrom(identifier, options, 'apppool.name', 'name'))
      pool.element.parentNode.removeChild(pool.element)
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
      sitesElement(doc).insertBefore(site, firstNonSite ?? null)
      const bindings = ensureChild(doc, site, 'bindings')
      for (const b of (optionValue(options, 'bindings') ?? '').split(',').filter(Boolean)) {
        const slash = b.indexOf('/')
        const binding = doc.createElement('binding')
        binding.setAttribute('protocol', b.slice(0, slash))
        binding.setAttribute('bindingInformation', b.slice(slash + 1))
        bindings.appendChild(binding)
      }
      lines.push(`SITE object "${name}" added`)
      if (optionValue(options, 'physicalPath') !== undefined) addApp(doc, site, '/', options, lines)
      break
    }
    case 'delete site': {
      const site = findOne(allSites(doc, runtime), 'SITE', identifierFrom(identifier, options, 'site.name', 'name'))
      site.element.parentNode.removeChild(site.element)
      lines.push(`SITE object "${site.name}" deleted`)
      break
    }
    case 'add app': {
      const siteName = requireOption(options, 'site.name', 'APP')
      const site = findOne(allSites(doc, runtime), 'SITE', siteName)
      const appPath = requireOption(options, 'path', 'APP')
      if (!appPath.startsWith('/')) fail(EXIT.invalidParameter, `Invalid application path "${appPath}".`)
      addApp(doc, site.element, appPath, options, lines)
      break
    }
    case 'set app': {
      const app = findOne(allApps(doc), 'APP', identifierFrom(identifier, options, 'app.name'))
      for (const o of propertyOptions(options)) {
        if (same(o.name, 'app.name')) continue
        if (same(o.name, 'applicationPool')) app.element.setAttribute('applicationPool', o.value ?? '')
        else if (same(o.name, 'enabledProtocols') || same(o.name, 'preloadEnabled')) app.element.setAttribute(o.name, o.value ?? '')
        else unknownAttribute(o.name)
      }
      lines.push(`APP object "${app.name}" changed`)
      break
    }
    case 'delete app': {
      const app = findOne(allApps(doc), 'APP', identifierFrom(identifier, options, 'app.name'))
      app.element.parentNode.removeChild(app.element)
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
        if (same(o.name, 'physicalPath')) vdir.element.setAttribute('physicalPath', o.value ?? '')
        else unknownAttribute(o.name)
      }
      lines.push(`VDIR object "${vdir.name}" changed`)
      break
    }
    case 'delete vdir': {
      const vdir = findOne(allVdirs(doc), 'VDIR', identifierFrom(identifier, options, 'vdir.name'))
      vdir.element.parentNode.removeChild(vdir.element)
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
          ? new AppcmdError(
              EXIT.serviceAlreadyRunning,
              'ERROR ( hresult:80070420, message:Command execution failed.\nAn instance of the service is already running.\n\n )'
            )
          : new AppcmdError(
              EXIT.serviceNotActive,
              'ERROR ( hresult:80070426, message:Command execution failed.\nThe service has not been started.\n\n )'
            )
      }
      runtime[kind][obj.name.toLowerCase()] = wanted
      writeAtomic(paths.runtime, JSON.stringify(runtime))
      lines.push(`"${obj.name}" successfully ${verb === 'start' ? 'started' : 'stopped'}.`)
      return { stdout: lines.map(l => `${l}\n`).join(''), changed: false }
    }
    case 'recycle apppool': {
      const pool = findOne(allPools(doc, runtime), 'APPPOOL', identifierFrom(identifier, options, 'apppool.name', 'name'))
      if (stateOf(runtime, 'pools', pool.name) === 'Stopped') {
        throw new AppcmdError(
          EXIT.serviceNotActive,
          'ERROR ( hresult:80070426, message:Command execution failed.\nThe service has not been started.\n\n )'
        )
      }
      lines.push(`"${pool.name}" successfully recycled`)
      return { stdout: lines.map(l => `${l}\n`).join(''), changed: false }
    }
    default:
      fail(EXIT.invalidParameter, `appcmd double: "${verb} ${object}" is not supported.`)
  }
  return { stdout: lines.map(l => `${l}\n`).join(''), changed: true }
}

// ---------------------------------------------------------------- backups

function backupNames(paths) {
  if (!fs.existsSync(paths.backups)) return []
  return fs
    .readdirSync(paths.backups, { withFileTypes: true })
    .filter(d => d.isDirectory() && fs.existsSync(path.join(paths.backups, d.name, 'applicationHost.config')))
    .map(d => d.name)
    .sort()
}
function findBackup(paths, name) {
  const found = backupNames(paths).find(n => same(n, name))
  if (!found) notFound('BACKUP', name)
  return found
}
function timestampName() {
  const d = new Date()
  const two = n => String(n).padStart(2, '0')
  return `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}T${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`
}

function backupVerb(verb, paths, identifier, options) {
  switch (verb) {
    case 'list': {
      let names = backupNames(paths)
      if (identifier !== undefined) names = [findBackup(paths, identifier)]
      const objects = names.map(name => ({ type: 'BACKUP', name, props: { 'backup.name': name, name } }))
      return listObjects('BACKUP', objects, undefined, options, undefined)
    }
    case 'add': {
      const name = identifierFrom(identifier, options, 'name') ?? timestampName()
      if (backupNames(paths).some(n => same(n, name))) fail(EXIT.duplicate, `Failed to add duplicate collection element "${name}".`)
      loadDocument(paths) // creates the seed when no state exists yet, so a backup always has something to hold
      const folder = path.join(paths.backups, name)
      fs.mkdirSync(folder, { recursive: true })
      fs.copyFileSync(paths.config, path.join(folder, 'applicationHost.config'))
      return { stdout: `BACKUP object "${name}" added\n`, exitCode: EXIT.ok }
    }
    case 'restore': {
      const name = findBackup(paths, identifierFrom(identifier, options, 'backup.name', 'name') ?? '')
      writeAtomic(paths.config, fs.readFileSync(path.join(paths.backups, name, 'applicationHost.config')))
      return { stdout: `Restored configuration from backup "${name}"\n`, exitCode: EXIT.ok }
    }
    case 'delete': {
      const name = findBackup(paths, identifierFrom(identifier, options, 'backup.name', 'name') ?? '')
      fs.rmSync(path.join(paths.backups, name), { recursive: true, force: true })
      return { stdout: `BACKUP object "${name}" deleted\n`, exitCode: EXIT.ok }
    }
  }
  return fail(EXIT.invalidParameter, `appcmd double: "${verb} backup" is not supported.`)
}

// ---------------------------------------------------------------- dispatch, locking, fail-at, log

const OBJECTS = {
  site: 'site',
  sites: 'site',
  app: 'app',
  apps: 'app',
  vdir: 'vdir',
  vdirs: 'vdir',
  apppool: 'apppool',
  apppools: 'apppool',
  backup: 'backup',
  backups: 'backup',
  config: 'config',
  configs: 'config'
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
function withLock(paths, fn) {
  fs.mkdirSync(path.dirname(paths.lock), { recursive: true })
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdirSync(paths.lock)
      break
    } catch (error) {
      if (error.code !== 'EEXIST' || attempt > 1000) throw error
      sleep(10)
    }
  }
  try {
    return fn()
  } finally {
    fs.rmSync(paths.lock, { recursive: true, force: true })
  }
}

function mutatingCallsSoFar() {
  if (!env.APPCMD_DOUBLE_LOG || !fs.existsSync(env.APPCMD_DOUBLE_LOG)) return 0
  return fs
    .readFileSync(env.APPCMD_DOUBLE_LOG, 'utf8')
    .split('\n')
    .filter(line => line.trim() !== '')
    .filter(line => JSON.parse(line).mutating === true).length
}

function failAt() {
  let raw = env.APPCMD_DOUBLE_FAIL_AT
  if ((raw === undefined || raw === '') && env.APPCMD_DOUBLE_FAIL_AT_FILE && fs.existsSync(env.APPCMD_DOUBLE_FAIL_AT_FILE)) {
    raw = fs.readFileSync(env.APPCMD_DOUBLE_FAIL_AT_FILE, 'utf8').trim()
  }
  if (raw === undefined || raw === '') return undefined
  if (!env.APPCMD_DOUBLE_LOG)
    throw new AppcmdError(
      EXIT.invalidParameter,
      'ERROR ( message:appcmd double: APPCMD_DOUBLE_FAIL_AT needs APPCMD_DOUBLE_LOG to count calls. )'
    )
  return raw.split(',').map(Number)
}

const COMMIT_FAILED =
  'ERROR ( hresult:80070020, message:Failed to commit configuration changes.\nThe process cannot access the file because it is being used by another process.\n )'

function execute(argv, paths) {
  const [rawVerb, rawObject, ...rest] = argv
  const verb = (rawVerb ?? '').toLowerCase()
  const object = OBJECTS[(rawObject ?? '').toLowerCase()]
  if (!object) fail(EXIT.invalidParameter, `appcmd double: unknown object type "${rawObject ?? ''}".`)
  const { identifier, options } = parseArgs(rest)

  if (object === 'backup') return backupVerb(verb, paths, identifier, options)
  const doc = loadDocument(paths)
  if (verb === 'list') {
    if (object === 'config') return { stdout: listConfig(doc, identifier, options), exitCode: EXIT.ok }
    const runtime = runtimeState(paths)
    const all = {
      site: () => allSites(doc, runtime),
      app: () => allApps(doc),
      vdir: () => allVdirs(doc),
      apppool: () => allPools(doc, runtime)
    }[object]()
    return listObjects(object === 'apppool' ? 'APPPOOL' : object.toUpperCase(), all, identifier, options, doc)
  }
  let result
  if (object === 'config' && verb === 'set') result = { stdout: setConfig(doc, identifier, options), changed: true }
  else if (object === 'config' && verb === 'unlock') result = { stdout: unlockConfig(doc, identifier, options), changed: true }
  else result = objectVerb(verb, object, doc, paths, identifier, options)
  if (result.changed) writeAtomic(paths.config, serializeDocument(doc))
  return { stdout: result.stdout, exitCode: EXIT.ok }
}

function main() {
  const argv = process.argv.slice(2)
  const mutating = argv.length > 0 && argv[0].toLowerCase() !== 'list'
  let outcome
  const run = paths => {
    if (mutating) {
      const k = failAt()
      if (k !== undefined && k.includes(mutatingCallsSoFar() + 1)) return { stdout: `${COMMIT_FAILED}\n`, exitCode: EXIT.commitFailed }
    }
    return execute(argv, paths)
  }
  const guarded = paths => {
    try {
      return run(paths)
    } catch (error) {
      if (error instanceof AppcmdError) return { stdout: `${error.message}\n`, exitCode: error.exitCode }
      throw error
    }
  }
  try {
    const paths = statePaths()
    outcome = mutating
      ? withLock(paths, () => {
          const result = guarded(paths)
          appendLog(argv, result, mutating)
          return result
        })
      : guarded(paths)
    if (!mutating) appendLog(argv, outcome, mutating)
  } catch (error) {
    if (!(error instanceof AppcmdError)) throw error
    outcome = { stdout: `${error.message}\n`, exitCode: error.exitCode }
  }
  fs.writeSync(1, outcome.stdout)
  process.exit(outcome.exitCode)
}

function appendLog(argv, result, mutating) {
  if (!env.APPCMD_DOUBLE_LOG) return
  fs.mkdirSync(path.dirname(env.APPCMD_DOUBLE_LOG), { recursive: true })
  fs.appendFileSync(env.APPCMD_DOUBLE_LOG, `${JSON.stringify({ argv, exitCode: result.exitCode, mutating, stdout: result.stdout })}\n`)
}

main()
