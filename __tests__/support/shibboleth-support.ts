import fs from 'node:fs'
import path from 'node:path'
import { DOMParser, type Element } from '@xmldom/xmldom'
import { execRunner } from '../../src/process.js'
import { checkShibbolethConfig, type CheckResult } from '../../src/shibboleth/check.js'
import { diffLines } from '../../src/shibboleth/diff.js'
import { pathName, SP_NAMESPACES, type ShibbolethWant } from '../../src/shibboleth/patch.js'
import { tempDir as sharedTempDir } from './temp-dir.js'

export const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'shibboleth')
/** Debian's shibboleth-sp-utils checker: relative paths in the config resolve against /etc/shibboleth. */
export const SHIBD_CHECK = ['shibd', '-t', '-c', '{config}']

export function tempDir(prefix = 'shib-test'): string {
  return sharedTempDir(prefix)
}

/** Runs the real SP checker on text written to a temp file. */
export async function shibdCheck(text: string | Buffer): Promise<CheckResult> {
  const file = path.join(tempDir(), 'shibboleth2.xml')
  fs.writeFileSync(file, text)
  return checkShibbolethConfig(execRunner, SHIBD_CHECK, file)
}

function elements(parent: Element, localName: string): Element[] {
  const out: Element[] = []
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    const e = n as Element
    if (n.nodeType === n.ELEMENT_NODE && e.localName === localName && SP_NAMESPACES.includes(e.namespaceURI ?? '')) out.push(e)
  }
  return out
}

/** The elements that carry the protection of want, read back with a parser. */
export function ourParts(
  text: string,
  want: ShibbolethWant
): { sites: Element[]; hosts: Element[]; paths: Element[]; applicationDefaults: Element } {
  const doc = new DOMParser().parseFromString(text.replace(/^\uFEFF/, ''), 'text/xml')
  const root = doc.documentElement as Element
  const isapi = elements(root, 'InProcess').flatMap(p => elements(p, 'ISAPI'))
  const sites = isapi.flatMap(i => elements(i, 'Site')).filter(s => s.getAttribute('id') === String(want.siteId))
  const maps = elements(root, 'RequestMapper').flatMap(m => elements(m, 'RequestMap'))
  const hosts = maps.flatMap(m => elements(m, 'Host')).filter(h => h.getAttribute('name') === want.host)
  const paths = hosts.flatMap(h => elements(h, 'Path')).filter(p => p.getAttribute('name') === pathName(want.appPath))
  return { sites, hosts, paths, applicationDefaults: elements(root, 'ApplicationDefaults')[0] }
}

/** Lines a patch may add, remove or rewrite; anything else in a diff is damage. */
export function isOurLine(line: string, want: ShibbolethWant): boolean {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const patterns = [
    new RegExp(`<(\\w+:)?Site id=["']${want.siteId}["']`),
    /^\s*<\/?(\w+:)?(InProcess|ISAPI|RequestMapper|RequestMap)\b[^>]*>\s*$/,
    new RegExp(`<(\\w+:)?Host name="${esc(want.host)}"`, 'i'),
    /^\s*<\/(\w+:)?Host>\s*$/,
    new RegExp(`<(\\w+:)?Path name="${esc(pathName(want.appPath))}"`, 'i'),
    /^\s*REMOTE_USER="[^"]*"\s*$|\bREMOTE_USER="/
  ]
  return patterns.some(p => p.test(line))
}

export function foreignChanges(before: string, after: string, want: ShibbolethWant): string[] {
  return diffLines(before, after)
    .filter(l => l.op !== ' ' && !isOurLine(l.text, want))
    .map(l => `${l.op}${l.text}`)
}
