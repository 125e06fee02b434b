import type { Element } from '@xmldom/xmldom'
import { parseXmlStrict } from '../render/xml.js'
import { SP_NAMESPACES } from './patch.js'

/** Elements, attributes (sorted) and trimmed text; comments and indentation do not reach the module. */
function canonical(element: Element): string {
  const attrs = Array.from(element.attributes)
    .map(a => `${a.name}=${JSON.stringify(a.value)}`)
    .sort()
  const inner: string[] = []
  for (let n = element.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === n.ELEMENT_NODE) inner.push(canonical(n as Element))
    else if ((n.nodeType === n.TEXT_NODE || n.nodeType === n.CDATA_SECTION_NODE) && (n.nodeValue ?? '').trim())
      inner.push(JSON.stringify((n.nodeValue ?? '').trim()))
  }
  return `<${element.localName} ${attrs.join(' ')}>${inner.join('')}</${element.localName}>`
}

function parse(text: string): Element | undefined {
  try {
    return parseXmlStrict(text.replace(/^\uFEFF/, ''), 'shibboleth2.xml').documentElement ?? undefined
  } catch {
    return undefined
  }
}

function spChildren(parent: Element | undefined, localName: string): Element[] {
  const out: Element[] = []
  for (let n = parent?.firstChild; n; n = n.nextSibling) {
    const e = n as Element
    if (n.nodeType === n.ELEMENT_NODE && e.localName === localName && SP_NAMESPACES.includes(e.namespaceURI ?? '')) out.push(e)
  }
  return out
}

/**
 * SPConfig/InProcess/ISAPI in a canonical form, '' when the file has none (or cannot be read). The IIS module copies
 * this element into each worker process once, when the process starts (docs/windows-facts.md, nm-sso-recycle);
 * the rest of the file the SP reloads by itself.
 */
export function isapiSection(text: string | undefined): string {
  const root = text === undefined ? undefined : parse(text)
  const isapi = spChildren(root, 'InProcess').flatMap(p => spChildren(p, 'ISAPI'))[0]
  return isapi ? canonical(isapi) : ''
}

/** The RequestMap Host names of the file, in lower case. */
export function mappedHosts(text: string | undefined): Set<string> {
  const root = text === undefined ? undefined : parse(text)
  const hosts = spChildren(root, 'RequestMapper')
    .flatMap(m => spChildren(m, 'RequestMap'))
    .flatMap(m => spChildren(m, 'Host'))
  return new Set(hosts.map(h => (h.getAttribute('name') ?? '').toLowerCase()).filter(Boolean))
}

/**
 * Why the IIS workers of the site must restart after the file went from `before` to `after`, or undefined: the
 * <ISAPI> site list changed (the module reads it once per worker), or `host` is new to the RequestMap (a change of
 * shibboleth-host; the recycle makes the workers' mapping of it current at once, whether or not <ISAPI> names it).
 */
export function moduleRecycleReason(before: string | undefined, after: string, host: string): string | undefined {
  if (isapiSection(before) !== isapiSection(after)) return 'the <ISAPI> site list changed'
  if (!mappedHosts(before).has(host.toLowerCase())) return `shibboleth-host ${host} is new to the RequestMap`
  return undefined
}
