// The appcmd double's state: a real applicationHost.config file, written back in IIS's own layout, and the
// runtime state (started/stopped) beside it, so backups hold configuration only, as on IIS.
import fs from 'node:fs'
import path from 'node:path'
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom'
import { AppcmdError, EXIT } from './appcmd-args.js'

export interface StatePaths {
  config: string
  runtime: string
  backups: string
  lock: string
  /** The fresh-server applicationHost.config a missing state file starts from. */
  seed: string
}

export type DoubleEnv = Readonly<Record<string, string | undefined>>

export function statePaths(env: DoubleEnv, seed: string): StatePaths {
  const config = env.APPCMD_DOUBLE_CONFIG
  if (!config) throw new AppcmdError(EXIT.invalidParameter, 'ERROR ( message:appcmd double: APPCMD_DOUBLE_CONFIG is not set. )')
  return {
    config,
    runtime: `${config}.runtime.json`,
    backups: env.APPCMD_DOUBLE_BACKUPS || path.join(path.dirname(config), 'backup'),
    lock: `${config}.lock`,
    seed
  }
}

export function writeAtomic(file: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  fs.writeFileSync(temp, content)
  fs.renameSync(temp, file)
}

export function loadDocument(paths: StatePaths): Document {
  if (!fs.existsSync(paths.config)) writeAtomic(paths.config, fs.readFileSync(paths.seed))
  const text = fs.readFileSync(paths.config, 'utf8')
  return new DOMParser().parseFromString(text, 'text/xml')
}

const isElement = (n: Node): n is Element => n.nodeType === 1
export const elements = (node: Node | null | undefined): Element[] => (node ? Array.from(node.childNodes).filter(isElement) : [])
export const child = (node: Node | null | undefined, name: string): Element | undefined => elements(node).find(e => e.nodeName === name)
export function ensureChild(doc: Document, node: Element, name: string, before?: string): Element {
  const existing = child(node, name)
  if (existing) return existing
  const created = doc.createElement(name)
  const anchor = before ? child(node, before) : undefined
  node.insertBefore(created, anchor ?? null)
  return created
}
export const attrs = (el: Element): { name: string; value: string }[] => Array.from(el.attributes)
export const cloneElement = (el: Element): Element => el.cloneNode(true) as Element
export const detach = (el: Element): void => void el.parentNode?.removeChild(el)

// Tab, CR and LF as character references: written raw, a re-read turns them into spaces (XML 1.0, 3.3.3
// attribute-value normalization). Whether IIS's writer does the same is assumed (docs/windows-facts.md, ac-value-verbatim).
export const escapeAttr = (v: unknown): string =>
  String(v)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;')

/** Serializes elements in IIS's own layout: 4-space indent, `<x a="v" />`, no mixed content. */
export function serializeElement(el: Element, depth: number): string {
  const pad = '    '.repeat(depth)
  const head = `${pad}<${el.nodeName}${attrs(el)
    .map(a => ` ${a.name}="${escapeAttr(a.value)}"`)
    .join('')}`
  const kids = elements(el)
  if (kids.length === 0) return `${head} />\n`
  return `${head}>\n${kids.map(k => serializeElement(k, depth + 1)).join('')}${pad}</${el.nodeName}>\n`
}
export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
export const serializeDocument = (doc: Document): string => XML_DECL + serializeElement(doc.documentElement!, 0)

export type RunState = 'Started' | 'Stopped'
export interface Runtime {
  sites: Record<string, RunState>
  pools: Record<string, RunState>
  /** Recycles per pool (lower-case name): the IIS stand-in starts a new worker process on each (st-worker). */
  recycled?: Record<string, number>
}

export function runtimeState(paths: StatePaths): Runtime {
  try {
    return JSON.parse(fs.readFileSync(paths.runtime, 'utf8')) as Runtime
  } catch {
    return { sites: {}, pools: {} }
  }
}
export const stateOf = (runtime: Runtime, kind: 'sites' | 'pools', name: string): RunState => runtime[kind][name.toLowerCase()] ?? 'Started'
