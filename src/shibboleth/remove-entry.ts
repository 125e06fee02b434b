import type { Element, Node } from '@xmldom/xmldom'
import { InputError } from '../errors.js'
import { parseXmlStrict } from '../render/xml.js'
import type { AddedElement, SpEntry } from './entry-record.js'
import { pathName, SP_NAMESPACES } from './patch.js'
import { mapSource, type SourceElement } from './xml-source.js'

export interface RemoveResult {
  text: string
  changed: boolean
  /** One line per removal, for the log and the plan. */
  changes: string[]
  /** Why a recorded entry was left in place (edited by hand since). */
  notes: string[]
  /** The recorded entries the file no longer has: the record may forget them. */
  gone: SpEntry[]
  /** The recorded entries removed now. */
  removed: SpEntry[]
}

const LEVELS: AddedElement[] = ['RequestMapper', 'RequestMap', 'Host', 'Path']

function children(parent: Element, localName: string, namespace: string): Element[] {
  const out: Element[] = []
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    const e = n as Element
    if (n.nodeType === n.ELEMENT_NODE && e.localName === localName && e.namespaceURI === namespace) out.push(e)
  }
  return out
}

/** The attributes an element has, by name; the action's elements carry only those it writes (src/shibboleth/patch.ts). */
function hasOnly(element: Element, expected: Record<string, (value: string) => boolean>): boolean {
  const names = Array.from(element.attributes).map(a => a.name)
  return names.length === Object.keys(expected).length && names.every(n => expected[n]?.(element.getAttribute(n) ?? '') === true)
}

/** Nothing in parent but whitespace and child: no comment, text or other element someone added since. */
function holdsOnly(parent: Element, child: Element): boolean {
  for (let n: Node | null = parent.firstChild; n; n = n.nextSibling) {
    if (n === child) continue
    if (n.nodeType === n.TEXT_NODE && (n.nodeValue ?? '').trim() === '') continue
    return false
  }
  return true
}

/**
 * The range that removing an element takes out: with the line break and indentation before it when it starts a
 * line, which is exactly what the patch's insertion added (it leaves the line after it as it was).
 */
function removalRange(text: string, at: SourceElement): [number, number] {
  const lineStart = text.lastIndexOf('\n', at.start - 1) + 1
  if (lineStart === 0 || !/^[ \t]*$/.test(text.slice(lineStart, at.start))) return [at.start, at.end]
  return [lineStart - (text[lineStart - 2] === '\r' ? 2 : 1), at.end]
}

/**
 * Removes from shibboleth2.xml text the RequestMap entries the record says the action added: the outermost
 * element it inserted, or only the inner part when someone has put other content next to it since. An entry
 * edited by hand since is left, with a note. Everything else stays byte for byte.
 */
export function removeRecordedEntries(text: string, entries: readonly SpEntry[]): RemoveResult {
  const result: RemoveResult = { text, changed: false, changes: [], notes: [], gone: [], removed: [] }
  if (entries.length === 0) return result
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : ''
  const body = text.slice(bom.length)
  let source: Map<Element, SourceElement>
  let root: Element | null
  try {
    const doc = parseXmlStrict(body, 'the file')
    root = doc.documentElement
    source = mapSource(doc, body)
  } catch (e) {
    throw new InputError('shibboleth-config', `${(e as Error).message}; fix the file or restore it from a backup, then run again`)
  }
  if (!root || root.localName !== 'SPConfig' || !SP_NAMESPACES.includes(root.namespaceURI ?? '')) return result
  const ns = root.namespaceURI ?? ''
  const ranges: Array<[number, number]> = []
  for (const entry of entries) {
    const where = entry.path ? `Host '${entry.host}' Path '${entry.path}'` : `Host '${entry.host}' (whole host)`
    const mapper = children(root, 'RequestMapper', ns)[0]
    const map = mapper ? children(mapper, 'RequestMap', ns)[0] : undefined
    const host = map
      ? children(map, 'Host', ns).find(h => (h.getAttribute('name') ?? '').toLowerCase() === entry.host.toLowerCase())
      : undefined
    const pathEl =
      host && entry.path ? children(host, 'Path', ns).find(p => pathName(p.getAttribute('name') ?? '') === entry.path) : undefined
    const target = entry.path ? pathEl : host
    if (!mapper || !map || !target) {
      result.gone.push(entry)
      continue
    }
    const protects = { name: () => true, authType: (v: string) => v === 'shibboleth', requireSession: (v: string) => v === 'true' }
    if (!hasOnly(target, protects) || children(target, 'Path', ns).length > 0 || !holdsOnly(target, target)) {
      result.notes.push(
        `RequestMap ${where} was changed by hand since this action added it; left in place, remove it yourself if it is no longer wanted`
      )
      continue
    }
    // The chain from the mapper down; the action owns it from the level it inserted.
    const chain = [mapper, map, host, ...(entry.path ? [target] : [])] as Element[]
    const own = LEVELS.indexOf(entry.added)
    const asWritten = [
      (e: Element) => hasOnly(e, { type: v => v === 'Native' }),
      (e: Element) => hasOnly(e, {}),
      (e: Element) => hasOnly(e, { name: () => true })
    ]
    let cut = chain.length - 1
    while (cut - 1 >= own && holdsOnly(chain[cut - 1], chain[cut]) && asWritten[cut - 1]?.(chain[cut - 1])) cut--
    const at = source.get(chain[cut])
    if (!at) throw new Error(`no source range for <${chain[cut].tagName}>`)
    ranges.push(removalRange(body, at))
    result.removed.push(entry)
    result.changes.push(`removed RequestMap ${where}, which this action added (auth is no longer shibboleth)`)
  }
  let out = body
  for (const [start, end] of ranges.sort((a, b) => b[0] - a[0])) out = out.slice(0, start) + out.slice(end)
  result.text = bom + out
  result.changed = result.text !== text
  return result
}
