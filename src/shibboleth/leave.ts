import fs from 'node:fs'
import type { DeployConfig } from '../config.js'
import type { Log } from '../log.js'
import {
  commitShibbolethChange,
  withRecordRestore,
  type ShibbolethApplied,
  type ShibbolethCommitOptions,
  type ShibbolethProposal
} from './apply.js'
import { unifiedDiff } from './diff.js'
import { decodeXml, encodeXml } from './encoding.js'
import { SpEntryRecord, type SpEntry } from './entry-record.js'
import { mappedHosts } from './isapi.js'
import { removeRecordedEntries } from './remove-entry.js'

/**
 * Leaving `auth: shibboleth`: the RequestMap entry the action added would keep the SP demanding a session for the
 * app, so it is removed, and only it (src/shibboleth/entry-record.ts). The ISAPI Site and REMOTE_USER stay: they
 * demand nothing, and other apps of the site may use them.
 */
export interface LeaveProposal extends ShibbolethProposal {
  /** Why the file is not touched although the record names entries (no file, an entry edited by hand). */
  notes: string[]
  entries: SpEntry[]
  removed: SpEntry[]
  /** Recorded entries the file no longer has. */
  gone: SpEntry[]
}

/** What the SP side of a run that is not shibboleth needs from the config. */
export type LeaveTarget = Pick<ShibbolethCommitOptions, 'configPath' | 'check' | 'service' | 'net' | 'deployRoot'>

export function leaveTarget(config: DeployConfig): LeaveTarget & { deployRoot: string; site: string } {
  const { configPath, check, service } = config.shibboleth
  return { configPath, check, service, deployRoot: config.deployRoot, site: config.siteName }
}

/** The entries the record names for this SP config: none means there is nothing to leave. */
export function recordedEntries(target: LeaveTarget & { deployRoot: string }): SpEntry[] {
  return SpEntryRecord.read(target.deployRoot).entriesFor(target.configPath)
}

export function proposeLeave(configPath: string, entries: SpEntry[]): LeaveProposal {
  const none = { original: undefined, next: Buffer.alloc(0), changed: false, changes: [], diff: '', entries, removed: [], gone: [] }
  if (entries.length === 0) return { ...none, notes: [] }
  if (!fs.existsSync(configPath)) {
    return { ...none, notes: [`${configPath} does not exist (Shibboleth SP uninstalled?): nothing to remove from it`] }
  }
  const original = fs.readFileSync(configPath)
  const { text, encoding } = decodeXml(original)
  const removal = removeRecordedEntries(text, entries)
  return {
    original,
    next: removal.changed ? encodeXml(removal.text, encoding) : original,
    changed: removal.changed,
    changes: removal.changes,
    diff: removal.changed ? unifiedDiff(text, removal.text) : '',
    ...(removal.changed ? leaveRecycleReason(text, removal.text) : {}),
    notes: removal.notes,
    entries,
    removed: removal.removed,
    gone: removal.gone
  }
}

/** As for a host new to the RequestMap (src/shibboleth/isapi.ts), a host that left it is made current in the workers at once. */
function leaveRecycleReason(before: string, after: string): { recycleReason?: string } {
  const left = [...mappedHosts(before)].filter(h => !mappedHosts(after).has(h))
  return left.length > 0 ? { recycleReason: `Host ${left.join(', ')} left the RequestMap` } : {}
}

export interface ShibbolethLeaveOptions extends LeaveTarget, ShibbolethCommitOptions {
  deployRoot: string
  log: Log
}

/**
 * Removes the recorded entries with the same backup, check, restart and restore as adding them; a file that
 * already lacks them is not written, and the record forgets them.
 */
export async function leaveShibboleth(options: ShibbolethLeaveOptions): Promise<ShibbolethApplied> {
  const { configPath, log } = options
  const record = SpEntryRecord.read(options.deployRoot)
  const proposal = proposeLeave(configPath, record.entriesFor(configPath))
  for (const note of proposal.notes) log.info(`shibboleth2.xml: ${note}`)
  for (const entry of proposal.gone) record.drop(entry)
  if (!proposal.changed) {
    if (proposal.gone.length > 0) log.info(`${configPath} no longer has the entries this action added; not written.`)
    return { changed: false, backupPath: '', changes: [], diff: '', restore: async () => {} }
  }
  const applied = await commitShibbolethChange(options, proposal)
  const before = SpEntryRecord.read(options.deployRoot)
  for (const entry of proposal.removed) record.drop(entry)
  return withRecordRestore(applied, before)
}
