import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../render/atomic-write.js'
import { PhaseError } from '../errors.js'
import type { Log } from '../log.js'
import { poolPrincipal } from '../plan/desired.js'
import type { AclGrant, Operation } from '../plan/types.js'
import type { ProcessRunner } from '../process.js'

export const ACL_STATE_FILE = 'acl-state.json'

export interface GrantRecord {
  path: string
  principal: string
  permission: string
  /** File id of the folder when granted: a folder deleted and re-created under the same name needs the grant again. */
  ino: string
}

function recordKey(r: Omit<GrantRecord, 'ino'>): string {
  return `${r.path.toLowerCase()}|${r.principal.toLowerCase()}|${r.permission.toUpperCase()}`
}

function identity(p: string): string {
  try {
    return String(fs.statSync(p).ino)
  } catch {
    return ''
  }
}

function readRecords(file: string): GrantRecord[] {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { grants?: GrantRecord[] }
    return Array.isArray(parsed.grants) ? parsed.grants : []
  } catch {
    return []
  }
}

/**
 * icacls argv for one grant. `/grant:r` replaces earlier explicit grants of this principal on the folder, so a
 * re-grant never stacks permissions. (OI)(CI) makes the entry inheritable, and icacls propagates inheritable
 * entries to existing children itself, so no /T walk over a large venv is needed. /Q drops the success lines.
 */
export function grantArgv(grant: AclGrant, principal: string): string[] {
  return [grant.path, '/grant:r', `${principal}:${grant.permission}`, '/Q']
}

/** The grants a deploy still has to make, and what to record once they ran. */
export interface GrantPlan {
  operations: Operation[]
  /** Records to persist under deploy-root once the grants ran (recordGrants). */
  pending: GrantRecord[]
}

/** The grants not yet recorded under deploy-root (so a no-op redeploy runs no icacls); reads only. */
export function pendingGrants(deployRoot: string, pool: string, grants: AclGrant[], principal = poolPrincipal(pool)): GrantPlan {
  // Only the pool's identity (its virtual account, or the account it runs as), never Everyone or Users.
  const known = new Map(readRecords(path.join(deployRoot, ACL_STATE_FILE)).map(r => [recordKey(r), r]))
  const pending: GrantRecord[] = []
  const operations: Operation[] = []
  for (const grant of grants) {
    const record: GrantRecord = { path: grant.path, principal, permission: grant.permission, ino: identity(grant.path) }
    const seen = known.get(recordKey(record))
    if (seen && seen.ino === record.ino && record.ino !== '') continue
    operations.push({ tool: 'icacls', argv: grantArgv(grant, principal), why: grant.why, mutates: true })
    pending.push(record)
  }
  return { operations, pending }
}

/**
 * Creates the folders of ours the grants name and an empty WSGI_LOG, before apply's first step (plan mode never):
 * wfastcgi dies before speaking FastCGI when it cannot open WSGI_LOG, and a file the deploy creates under the
 * logs folder gets the pool's Modify grant from that folder.
 */
export function prepareGrantFolders(deployRoot: string, grants: AclGrant[], wsgiLog: string | undefined): void {
  // Folders of ours that nothing created yet (the logs folder with hosting httpplatform): icacls needs them.
  for (const grant of grants) {
    const rel = path.relative(deployRoot, grant.path)
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) fs.mkdirSync(grant.path, { recursive: true })
  }
  if (!wsgiLog) return
  fs.mkdirSync(path.dirname(wsgiLog), { recursive: true })
  if (!fs.existsSync(wsgiLog)) fs.writeFileSync(wsgiLog, '')
}

/** Records the grants that ran, so the next deploy skips them. */
export function recordGrants(deployRoot: string, pending: readonly GrantRecord[]): void {
  if (pending.length === 0) return
  const file = path.join(deployRoot, ACL_STATE_FILE)
  const merged = new Map(readRecords(file).map(r => [recordKey(r), r]))
  // The folder's id after the grant: prepareGrantFolders may have created it since planning.
  for (const r of pending) merged.set(recordKey(r), { ...r, ino: identity(r.path) })
  // Forget folders that are gone (pruned releases and venvs), so the file stays small.
  const grantsNow = [...merged.values()].filter(r => fs.existsSync(r.path))
  writeFileAtomic(file, `${JSON.stringify({ grants: grantsNow }, null, 2)}\n`)
}

/** Runs one icacls grant; icacls reports failures by exit code with the reason on stdout or stderr. */
export async function runIcacls(runner: ProcessRunner, log: Log, icaclsPath: string, operation: Operation): Promise<void> {
  const result = await runner.run(icaclsPath, operation.argv)
  log.info(
    `icacls ${operation.argv.map(a => (/\s/.test(a) ? `"${a}"` : a)).join(' ')} → exit ${result.exitCode} in ${result.durationMs} ms`
  )
  if (result.exitCode !== 0) {
    const why = (result.stderr.trim() || result.stdout.trim() || 'no output').replace(/\s+/g, ' ')
    throw new PhaseError(
      'apply',
      `icacls could not grant ${operation.argv[2]} on ${operation.argv[0]} (exit ${result.exitCode}): ${why}`,
      'run the deploy as an administrator of the server'
    )
  }
}
