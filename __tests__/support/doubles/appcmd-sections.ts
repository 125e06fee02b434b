// Configuration sections at the apphost level and under <location path="...">: where a write lands, whether a
// path may override a section, and the effective section `list config` shows (docs/windows-facts.md,
// ac-list-config-xml, ac-list-config-merged).
import type { Document, Element } from '@xmldom/xmldom'
import { APPHOST, EXIT, fail, hasOption, optionValue, same, type Option } from './appcmd-args.js'
import { SCHEMA, type SectionSchema } from './appcmd-schema.js'
import { attrs, child, cloneElement, elements, ensureChild, escapeAttr, serializeElement, XML_DECL } from './appcmd-store.js'

export function sectionName(raw: string | undefined): string {
  if (!raw) fail(EXIT.invalidParameter, 'Missing -section parameter.')
  const known = Object.keys(SCHEMA).find(s => same(s, raw) || same(s.split('/').pop(), raw))
  if (!known) fail(EXIT.invalidParameter, `Unknown config section "${raw}".  Replace with ? for help.`)
  return known as string
}

/** Normalizes a configuration path argument: "", "MACHINE/WEBROOT/APPHOST" and "/" mean the apphost level. */
export function locationPath(raw: string | undefined): string {
  if (raw === undefined) return ''
  let p = raw.replace(/\\/g, '/')
  if (p.toUpperCase().startsWith(APPHOST)) p = p.slice(APPHOST.length)
  return p.replace(/^\/+/, '').replace(/\/+$/, '')
}
export const configPathLabel = (loc: string): string => (loc === '' ? APPHOST : `${APPHOST}/${loc}`)

export const locations = (doc: Document): Element[] => elements(doc.documentElement).filter(e => e.nodeName === 'location')
export const locationPathOf = (el: Element): string => locationPath(el.getAttribute('path') ?? '')
export const sectionSteps = (section: string): string[] => section.split('/')

export function sectionIn(container: Element | null | undefined, section: string): Element | undefined {
  let node = container ?? undefined
  for (const step of sectionSteps(section)) {
    node = child(node, step)
    if (!node) return undefined
  }
  return node
}
export function ensureSectionIn(doc: Document, container: Element, section: string): Element {
  let node = container
  for (const step of sectionSteps(section)) node = ensureChild(doc, node, step)
  return node
}

const root = (doc: Document): Element => doc.documentElement!

/** Finds or creates the element a `set config` writes to: the top level, or a <location path="..."> for a path. */
export function targetSection(doc: Document, section: string, loc: string): Element {
  if (loc === '') {
    const top = sectionIn(root(doc), section)
    if (top) return top
    const unlocked = locations(doc).find(l => locationPathOf(l) === '' && sectionIn(l, section))
    if (unlocked) return sectionIn(unlocked, section)!
    return ensureSectionIn(doc, root(doc), section)
  }
  // A section may appear once per path in one file: write where it already is, whatever the overrideMode.
  const holding = locations(doc).find(l => same(locationPathOf(l), loc) && sectionIn(l, section))
  if (holding) return sectionIn(holding, section)!
  let location = locations(doc).find(l => same(locationPathOf(l), loc) && !l.hasAttribute('overrideMode'))
  if (!location) {
    location = doc.createElement('location')
    location.setAttribute('path', loc)
    root(doc).appendChild(location)
  }
  return ensureSectionIn(doc, location, section)
}

function sectionOverrideDefault(doc: Document, section: string): string {
  const [group, name] = [section.slice(0, section.lastIndexOf('/')), section.slice(section.lastIndexOf('/') + 1)]
  let node = child(root(doc), 'configSections')
  for (const g of group.split('/')) node = elements(node).find(e => e.nodeName === 'sectionGroup' && e.getAttribute('name') === g)
  const decl = elements(node).find(e => e.nodeName === 'section' && e.getAttribute('name') === name)
  return decl?.getAttribute('overrideModeDefault') ?? 'Allow'
}

/** Whether a web.config at `loc` may declare the section: the nearest location that sets overrideMode wins. */
function lockedAt(doc: Document, section: string, loc: string): boolean {
  if (loc === '') return false
  let mode: string | null = sectionOverrideDefault(doc, section)
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
function effectiveSection(doc: Document, section: string, loc: string): Element {
  const name = section.replace(/\//g, '-')
  const result = doc.createElement(name)
  const schema = SCHEMA[section]
  const sources = [sectionIn(root(doc), section)]
  const applicable = locations(doc)
    .filter(l => {
      const p = locationPathOf(l)
      return p === '' || (loc !== '' && (same(p, loc) || loc.toLowerCase().startsWith(`${p.toLowerCase()}/`)))
    })
    .sort((a, b) => locationPathOf(a).length - locationPathOf(b).length)
  for (const l of applicable) sources.push(sectionIn(l, section))
  for (const source of sources) if (source) mergeInto(doc, result, source, schema)
  return result
}

function mergeInto(doc: Document, target: Element, source: Element, schema: SectionSchema | undefined): void {
  for (const a of attrs(source)) target.setAttribute(a.name, a.value)
  for (const el of elements(source)) {
    const collection = schema?.collection
    if (collection && el.nodeName === collection.add) {
      const existing = elements(target).find(
        t => t.nodeName === collection.add && collection.keys.every(k => same(t.getAttribute(k) ?? '', el.getAttribute(k) ?? ''))
      )
      if (existing) target.removeChild(existing)
      target.appendChild(cloneElement(el))
    } else if (collection && el.nodeName === 'clear') {
      for (const t of elements(target).filter(t => t.nodeName === collection.add)) target.removeChild(t)
    } else {
      const childSchema = schema?.children?.[el.nodeName]
      const sub = ensureChild(doc, target, el.nodeName)
      mergeInto(doc, sub, el, childSchema)
    }
  }
}

export function listConfig(doc: Document, identifier: string | undefined, options: readonly Option[]): string {
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

function renameElement(doc: Document, el: Element, name: string): Element {
  const renamed = doc.createElement(name)
  for (const a of attrs(el)) renamed.setAttribute(a.name, a.value)
  for (const k of elements(el)) renamed.appendChild(cloneElement(k))
  return renamed
}
