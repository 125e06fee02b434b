// `set config` and `unlock config`: the /+[...], /-[...] and /[...].attr:value expressions of
// docs/windows-facts.md (ac-indexer, ac-indexer-quote, ac-dup-entry, ac-missing-element, ac-malformed), values
// stored as typed (ac-value-verbatim).
import type { Document, Element } from '@xmldom/xmldom'
import {
  APPHOST,
  AppcmdError,
  EXIT,
  fail,
  GENERAL,
  malformedIndexer,
  optionValue,
  same,
  unknownAttribute,
  type Option
} from './appcmd-args.js'
import { SCHEMA, type CollectionSchema, type SectionSchema } from './appcmd-schema.js'
import {
  configPathLabel,
  ensureSectionIn,
  locationPath,
  locationPathOf,
  locations,
  sectionIn,
  sectionName,
  sectionSteps,
  targetSection
} from './appcmd-sections.js'
import { child, detach, elements, ensureChild } from './appcmd-store.js'

type Step = { kind: 'index'; pairs: [string, string][] } | { kind: 'name'; name: string }

/** Parses `[k='v',...].name.[k='v'].attr:value` into steps; a `'` inside a quoted value is refused as malformed. */
function parseExpression(text: string): { steps: Step[]; value: string | undefined } {
  const steps: Step[] = []
  let i = 0
  let value: string | undefined
  while (i < text.length) {
    if (text[i] === '[') {
      const pairs: [string, string][] = []
      i++
      for (;;) {
        const eq = text.indexOf('=', i)
        if (eq < 0) malformedIndexer()
        const key = text.slice(i, eq).trim()
        if (!/^[A-Za-z][\w.]*$/.test(key)) malformedIndexer()
        i = eq + 1
        let v: string
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
        return unknownAttribute(text.slice(i).split(/[.:]/)[0])
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

const duplicateMessage = (collection: CollectionSchema, element: Element): string => {
  const keys = collection.keys
  const values = keys.map(k => element.getAttribute(k) ?? '')
  const what =
    keys.length === 1
      ? `unique key attribute '${keys[0]}' set to '${values[0]}'`
      : `combined key attributes '${keys.join(', ')}' respectively set to '${values.join(', ')}'`
  return `New ${collection.add} object missing required attributes. Cannot add duplicate collection entry of type '${collection.add}' with ${what}\n\n. `
}

function findInCollection(node: Element, collection: CollectionSchema, pairs: readonly (readonly [string, string])[]): Element | undefined {
  for (const [k] of pairs) if (!collection.attrs.some(a => a === k)) unknownAttribute(k)
  return elements(node).find(e => e.nodeName === collection.add && pairs.every(([k, v]) => same(e.getAttribute(k) ?? '', v)))
}

function checkValue(collection: CollectionSchema | undefined, attr: string, value: string): void {
  if (collection?.add === 'environmentVariable' && attr === 'value' && value === '') {
    fail(EXIT.invalidData, 'The data is invalid.')
  }
}

/** Applies one /+, /- or /...:value expression to a section element. */
function applyExpression(doc: Document, sectionEl: Element, schema: SectionSchema, op: string, expr: string): void {
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
      if (value === undefined) return unknownAttribute(step.name)
      checkValue(nodeSchema.itemOf, step.name, value)
      node.setAttribute(step.name, value)
      return
    }
    const collection = nodeSchema.collection
    if (!collection) return malformedIndexer()
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
      const keyPairs = collection.keys.map(k => [k, created.getAttribute(k) ?? ''] as const)
      if (findInCollection(node, collection, keyPairs))
        throw new AppcmdError(EXIT.duplicate, `ERROR ( message:${duplicateMessage(collection, created)})`)
      node.appendChild(created)
      return
    }
    const found = findInCollection(node, collection, step.pairs)
    if (!found) return fail(EXIT.elementNotFound, 'Cannot find requested collection element.')
    if (last && op === '-') {
      node.removeChild(found)
      return
    }
    if (last) fail(EXIT.invalidParameter, 'Missing attribute to set after the collection indexer.')
    node = found
    nodeSchema = { attrs: collection.attrs, children: collection.children, itemOf: collection }
  }
}

export function setConfig(doc: Document, identifier: string | undefined, options: readonly Option[]): string {
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

export function unlockConfig(doc: Document, identifier: string | undefined, options: readonly Option[]): string {
  const section = sectionName(optionValue(options, 'section'))
  const loc = locationPath(identifier)
  let allow = locations(doc).find(l => same(locationPathOf(l), loc) && l.getAttribute('overrideMode') === 'Allow')
  if (allow && sectionIn(allow, section)) return unlockedMessage(section, loc)
  // The section's settings move with it: a section may appear only once per path in one file.
  let content: Element | undefined
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
    doc.documentElement!.appendChild(allow)
  }
  const steps = sectionSteps(section)
  const parent = ensureSectionIn(doc, allow, steps.slice(0, -1).join('/'))
  if (content) {
    detach(content)
    parent.appendChild(content)
  } else {
    parent.appendChild(doc.createElement(steps[steps.length - 1]))
  }
  pruneEmptyLocations(doc)
  return unlockedMessage(section, loc)
}
const unlockedMessage = (section: string, loc: string): string =>
  `Unlocked section "${section}" at configuration path "${configPathLabel(loc)}".\n`

function pruneEmptyLocations(doc: Document): void {
  for (const l of locations(doc)) {
    if (elements(l).every(g => elements(g).length === 0)) doc.documentElement!.removeChild(l)
  }
}
