// Test double of icacls.exe, in process: records ACL changes instead of making them, against real paths on this
// disk. `../icacls` runs it as a program for the bundle and the IIS stand-in; the test runner
// (../double-runner.ts) calls it directly. Each behaviour is a row of docs/windows-facts.md (ic-*).
//
// Environment:
//   ICACLS_DOUBLE_LOG  JSON-lines file; each /grant, /grant:r, /remove and /inheritance:r appends
//                      {path, action: "grant"|"grant:r"|"remove"|"inheritance:r", principal, perm?, recursive, flags}
//
// Supported: icacls <path> /grant[:r] "<principal>:<perm>" [...more grants] [/T] [/C] [/Q]
//            icacls <path> /remove[:g|:d] <principal> [/T] [/C] [/Q]
//            icacls <path> /inheritance:r   (the path keeps its explicit entries only; principal is '*')
//            icacls <path>           (prints the ACL the log has recorded for the path)
// A missing path exits 2 with "<path>: The system cannot find the file specified." on stderr;
// an unparsable permission exits 87 with `Invalid parameter "<text>"`.
import fs from 'node:fs'
import path from 'node:path'
import type { DoubleEnv } from './appcmd-store.js'

export interface DoubleAnswer {
  exitCode: number
  stdout: string
  stderr: string
}

export interface AclRecord {
  path: string
  action: 'grant' | 'grant:r' | 'remove' | 'inheritance:r'
  principal: string
  perm?: string
  recursive: boolean
  flags: string[]
}

interface Ace {
  principal: string
  flags: string[]
  rights: string[]
}

const SIMPLE_RIGHTS = ['N', 'F', 'M', 'RX', 'R', 'W', 'D']
const INHERITANCE = ['OI', 'CI', 'IO', 'NP', 'I']
const SPECIFIC_RIGHTS = [
  'DE',
  'RC',
  'WDAC',
  'WO',
  'S',
  'AS',
  'MA',
  'GR',
  'GW',
  'GE',
  'GA',
  'RD',
  'WD',
  'AD',
  'REA',
  'WEA',
  'X',
  'DC',
  'RA',
  'WA'
]
// Windows grants every new folder these through inheritance; shown so a printed ACL looks like a real one.
const INHERITED: readonly Ace[] = [
  { principal: 'NT AUTHORITY\\SYSTEM', flags: ['I', 'OI', 'CI'], rights: ['F'] },
  { principal: 'BUILTIN\\Administrators', flags: ['I', 'OI', 'CI'], rights: ['F'] }
]

/** Parses "(OI)(CI)RX", "(OI)(CI)(RX)", "(RX,W)" or "M" into inheritance flags and rights. */
function parsePerm(perm: string): { flags: string[]; rights: string[] } | undefined {
  const flags: string[] = []
  const rights: string[] = []
  let rest = perm
  while (rest.length > 0) {
    const group = /^\(([^)]*)\)/.exec(rest)
    const token = group ? (group[1] ?? '') : rest
    const parts = token.split(',').map(p => p.trim().toUpperCase())
    for (const p of parts) {
      if (INHERITANCE.includes(p)) flags.push(p)
      else if (SIMPLE_RIGHTS.includes(p) || SPECIFIC_RIGHTS.includes(p)) rights.push(p)
      else return undefined
    }
    rest = group ? rest.slice(group[0].length) : ''
  }
  if (rights.length === 0) return undefined
  return { flags, rights }
}

function countFiles(target: string, recursive: boolean): string[] {
  // lstat: a link is one entry, as icacls treats a junction, and a link that loops must not recurse forever.
  if (!recursive || !fs.lstatSync(target).isDirectory()) return [target]
  const found = [target]
  for (const entry of fs.readdirSync(target)) found.push(...countFiles(path.join(target, entry), true))
  return found
}

export function readAclLog(log: string | undefined): AclRecord[] {
  if (!log || !fs.existsSync(log)) return []
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter(l => l.trim() !== '')
    .map(l => JSON.parse(l) as AclRecord)
}

/** Replays the recorded changes that apply to a path (its own, and recursive ones from a parent folder). */
function recordedAcl(target: string, entries: readonly AclRecord[]): Ace[] {
  const resolved = path.resolve(target)
  const aces: Ace[] = INHERITED.map(a => ({ ...a, flags: [...a.flags], rights: [...a.rights] }))
  const applies = (e: AclRecord): boolean => {
    const p = path.resolve(e.path)
    return p === resolved || (e.recursive && resolved.startsWith(`${p}${path.sep}`))
  }
  for (const e of entries.filter(applies)) {
    if (e.action === 'inheritance:r') {
      // Only the path's own entries stay; what its ancestors passed down is gone (ic-grant).
      const own = aces.filter(a => !a.flags.includes('I'))
      aces.length = 0
      aces.push(...own)
      continue
    }
    const isOther = (a: Ace): boolean => a.principal.toLowerCase() !== e.principal.toLowerCase() || a.flags.includes('I')
    if (e.action === 'remove' || e.action === 'grant:r') {
      const kept = aces.filter(isOther)
      aces.length = 0
      aces.push(...kept)
    }
    if (e.action === 'grant' || e.action === 'grant:r') {
      const parsed = parsePerm(e.perm ?? '')
      if (!parsed) continue
      const existing = aces.find(a => !isOther(a) && a.flags.join() === parsed.flags.join())
      if (existing) existing.rights = [...new Set([...existing.rights, ...parsed.rights])]
      else aces.push({ principal: e.principal, flags: parsed.flags, rights: parsed.rights })
    }
  }
  // Explicit entries come before inherited ones, as Windows orders a canonical ACL.
  return [...aces.filter(a => !a.flags.includes('I')), ...aces.filter(a => a.flags.includes('I'))]
}

const formatAce = (a: Ace): string => `${a.principal}:${a.flags.map(f => `(${f})`).join('')}(${a.rights.join(',')})`

/** One icacls call: argv as the product passes it, the double's environment; never throws for bad input. */
export function runIcacls(argv: readonly string[], env: DoubleEnv): DoubleAnswer {
  const out: string[] = []
  const err: string[] = []
  const finish = (exitCode: number): DoubleAnswer => ({
    exitCode,
    stdout: out.map(l => `${l}\n`).join(''),
    stderr: err.map(l => `${l}\n`).join('')
  })
  const log = env.ICACLS_DOUBLE_LOG
  const [target, ...rest] = argv
  if (!target) {
    err.push('Invalid parameter ""')
    return finish(87)
  }
  if (!fs.existsSync(target)) {
    err.push(`${target}: The system cannot find the file specified.`)
    out.push('Successfully processed 0 files; Failed processing 1 files')
    return finish(2)
  }
  const switches = rest.filter(a => /^\/[TCQL]$/i.test(a)).map(a => a.slice(1).toUpperCase())
  const recursive = switches.includes('T')
  const quiet = switches.includes('Q')
  const records: AclRecord[] = []
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? ''
    if (/^\/[TCQL]$/i.test(arg)) continue
    const grant = /^\/grant(:r)?$/i.exec(arg)
    const remove = /^\/remove(:[gd])?$/i.exec(arg)
    if (/^\/inheritance:r$/i.test(arg)) {
      records.push({ path: target, action: 'inheritance:r', principal: '*', recursive, flags: switches })
    } else if (grant) {
      const spec = rest[++i]
      const colon = spec?.lastIndexOf(':') ?? -1
      const perm = spec !== undefined && colon > 0 ? spec.slice(colon + 1) : ''
      if (spec === undefined || colon <= 0 || parsePerm(perm) === undefined) {
        err.push(`Invalid parameter "${spec ?? ''}"`)
        return finish(87)
      }
      records.push({
        path: target,
        action: grant[1] ? 'grant:r' : 'grant',
        principal: spec.slice(0, colon),
        perm,
        recursive,
        flags: switches
      })
    } else if (remove) {
      const principal = rest[++i]
      if (!principal) {
        err.push('Invalid parameter "/remove"')
        return finish(87)
      }
      records.push({ path: target, action: 'remove', principal, recursive, flags: switches })
    } else {
      err.push(`Invalid parameter "${arg}"`)
      return finish(87)
    }
  }

  if (records.length === 0) {
    const aces = recordedAcl(target, readAclLog(log))
    const pad = ' '.repeat(target.length + 1)
    aces.forEach((a, n) => out.push(`${n === 0 ? `${target} ` : pad}${formatAce(a)}`))
    out.push('')
    out.push('Successfully processed 1 files; Failed processing 0 files')
    return finish(0)
  }

  if (log) {
    fs.mkdirSync(path.dirname(log), { recursive: true })
    fs.appendFileSync(log, records.map(r => `${JSON.stringify(r)}\n`).join(''))
  }
  const files = countFiles(target, recursive)
  if (!quiet) for (const f of files) out.push(`processed file: ${f}`)
  out.push(`Successfully processed ${files.length} files; Failed processing 0 files`)
  return finish(0)
}
