/**
 * What the IIS stand-in does with a content folder's web.config beyond handlers and MIME types, by the rows of
 * docs/windows-facts.md:
 * - md-lock-below: a `<location path=".">` (or no path) in a web.config configures the folder itself, and with
 *   overrideMode="Deny" locks the sections it holds for every level below (iis-docs deep-dive into IIS
 *   configuration, "Locking": "Any level of the configuration hierarchy can lock configuration (for paths under
 *   it)"); a level below that declares such a section answers 500.19;
 * - md-request-filtering: requestFiltering <fileExtensions> entries with allowed="false" answer 404.7 and
 *   <hiddenSegments> 404.8 (iis-docs requestFiltering/index.md, the substatus table), merged over the levels with
 *   add/remove/clear; nothing is hidden or denied by default here (IIS Express's default hides no segment:
 *   JexusManager original.config:505-512);
 * - md-custom-headers: httpProtocol <customHeaders> are added to the response (iis-docs httpProtocol/customHeaders).
 * Plain JavaScript, like iis-standin.mjs.
 */

const elements = (el, name) => {
  const out = []
  if (!el) return out
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && (name === undefined || n.nodeName === name)) out.push(n)
  return out
}
const first = (el, ...names) => {
  let cur = el ?? undefined
  for (const name of names) cur = elements(cur, name)[0]
  return cur
}

/** The sections a web.config may lock for the levels below it, as paths under system.webServer. */
const LOCKABLE = [['handlers'], ['staticContent'], ['security', 'requestFiltering'], ['httpProtocol'], ['directoryBrowse']]

/**
 * Moves the sections of `<location path=".">` (or no path) into the file's own system.webServer, where the stand-in
 * reads them, and returns the names of those it locks (overrideMode="Deny" or allowOverride="false").
 */
export function liftLocations(configuration) {
  const locked = new Set()
  if (!configuration) return locked
  const doc = configuration.ownerDocument
  for (const location of elements(configuration, 'location')) {
    const where = (location.getAttribute('path') ?? '').trim()
    if (where !== '' && where !== '.') continue
    const from = first(location, 'system.webServer')
    if (!from) continue
    let to = first(configuration, 'system.webServer')
    if (!to) {
      to = doc.createElement('system.webServer')
      configuration.appendChild(to)
    }
    const deny = location.getAttribute('overrideMode') === 'Deny' || location.getAttribute('allowOverride') === 'false'
    for (const section of elements(from)) {
      if (deny) for (const p of LOCKABLE) if (first(from, ...p)) locked.add(p.join('/'))
      to.appendChild(section.cloneNode(true))
    }
  }
  return locked
}

/** Whether a level declares a section an upper level locked: IIS answers 500.19 for such a level. */
export function declaresLocked(configuration, locked) {
  return [...(locked ?? [])].some(name => first(configuration, 'system.webServer', ...name.split('/')) !== undefined)
}

function merged(levels, pathToCollection, keyOf) {
  const entries = new Map()
  for (const level of levels) {
    const section = first(level, 'system.webServer', ...pathToCollection)
    for (const el of elements(section)) {
      if (el.nodeName === 'clear') entries.clear()
      else if (el.nodeName === 'remove') entries.delete(keyOf(el))
      else if (el.nodeName === 'add') entries.set(keyOf(el), el)
    }
  }
  return entries
}

/** The request filtering answer for `urlRest` (the URL below the app) under these levels, or undefined to go on. */
export function filterRequest(levels, urlRest) {
  const segments = urlRest
    .split('/')
    .filter(Boolean)
    .map(s => s.toLowerCase())
  const hidden = merged(levels, ['security', 'requestFiltering', 'hiddenSegments'], el => (el.getAttribute('segment') ?? '').toLowerCase())
  if (segments.some(s => hidden.has(s))) return { status: 404, text: 'HTTP Error 404.8 - Not Found: hidden namespace (request filtering)' }
  const name = segments.at(-1) ?? ''
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.')) : ''
  const extensions = merged(levels, ['security', 'requestFiltering', 'fileExtensions'], el =>
    (el.getAttribute('fileExtension') ?? '').toLowerCase()
  )
  const entry = ext ? extensions.get(ext) : undefined
  if (entry && entry.getAttribute('allowed') === 'false')
    return { status: 404, text: 'HTTP Error 404.7 - Not Found: file extension denied (request filtering)' }
  return undefined
}

/** The custom response headers of these levels, name → value. */
export function customHeaders(levels) {
  const headers = {}
  for (const [, el] of merged(levels, ['httpProtocol', 'customHeaders'], el => (el.getAttribute('name') ?? '').toLowerCase()))
    headers[el.getAttribute('name') ?? ''] = el.getAttribute('value') ?? ''
  return headers
}
