import fs from 'node:fs'
import path from 'node:path'
import { asError, InputError, PhaseError } from '../errors.js'
import type { Log } from '../log.js'
import type { ProcessRunner } from '../process.js'
import { writeFileAtomic } from '../render/atomic-write.js'
import type { TemplateSet } from '../render/templates.js'
import { checkFailureSummary, checkShibbolethConfig, checksOtherFile } from './check.js'
import { unifiedDiff } from './diff.js'
import { decodeXml, encodeXml } from './encoding.js'
import { SpEntryRecord, type AddedElement } from './entry-record.js'
import { renderFreshConfig } from './fresh.js'
import { moduleRecycleReason } from './isapi.js'
import { patchShibbolethConfig, pathName, type ShibbolethWant } from './patch.js'
import { restartService } from './service.js'

export interface ShibbolethTarget {
  configPath: string
  /** The IIS site whose app pools serve the SP's handler and the protected path. */
  site: string
  want: ShibbolethWant
  /** The SP's config check as argv; `{config}` is replaced by configPath. */
  check: readonly string[]
  service: string
  /** net.exe by default; tests pass a double. */
  net?: string
}

/** What writing a changed SP config needs, for adding our entry and for removing it (src/shibboleth/leave.ts). */
export interface ShibbolethCommitOptions {
  configPath: string
  check: readonly string[]
  service: string
  net?: string
  runner: ProcessRunner
  log: Log
  now?: () => Date
  /** Backups of ours beside the file that are kept (keep-backups); older ones go after a good change. */
  keepBackups?: number
  /** Where the record of the entry the action added lives (src/shibboleth/entry-record.ts); none in unit tests. */
  deployRoot?: string
  /** Told what is about to be written, after the backup and before the write: the run journal records it. */
  beforeWrite?: (write: SpWrite) => void
}

/** A change about to be written to the SP config. */
export interface SpWrite {
  configPath: string
  /** The copy of the prior file; undefined when there was none. */
  backupPath?: string
  original?: Buffer
  next: Buffer
  service: string
  net: string
  /** The change needs the site's pools recycled (see ShibbolethApplied.recycleReason). */
  recycle: boolean
}

export interface ShibbolethApplyOptions extends ShibbolethTarget, ShibbolethCommitOptions {
  /** Renders a fresh file when the server has none. */
  templates: TemplateSet
}

/** Our backups of `configPath`, newest first (their names sort by time). */
export function ourBackups(configPath: string): string[] {
  const dir = path.dirname(configPath)
  const prefix = `${path.basename(configPath)}.`
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  return names
    .filter(n => n.startsWith(prefix) && /^\d{8}-\d{6}(-\d+)?\.bak$/.test(n.slice(prefix.length)))
    .sort()
    .reverse()
    .map(n => path.join(dir, n))
}

export interface ShibbolethApplied {
  changed: boolean
  /** '' when nothing changed, or when there was no file to back up. */
  backupPath: string
  changes: string[]
  diff: string
  /**
   * Why the site's IIS workers must restart (running ones keep the <ISAPI> site list they started with), or
   * undefined when the change needs none.
   */
  recycleReason?: string
  /** Puts the original file back and restarts the SP; for a failure later in the deploy. Harmless to call twice. */
  restore(): Promise<void>
}

/** What the file is now and what it should be; shared by apply and plan. */
export interface ShibbolethProposal {
  /** The file's bytes, or undefined when there is none yet. */
  original: Buffer | undefined
  next: Buffer
  changed: boolean
  changes: string[]
  diff: string
  /** See ShibbolethApplied.recycleReason. */
  recycleReason?: string
  /** The RequestMap element this change inserts for the app (src/shibboleth/entry-record.ts). */
  added?: AddedElement
}

export function proposeShibbolethConfig(
  configPath: string,
  want: ShibbolethWant,
  templates: TemplateSet,
  planOnly = false
): ShibbolethProposal {
  if (!fs.existsSync(configPath)) {
    // A plan made away from the server (a pull request on Linux) has no SP to read: it shows the fresh file.
    if (!planOnly && !fs.existsSync(path.dirname(configPath))) {
      throw new InputError(
        'shibboleth-config',
        `neither ${configPath} nor its folder exists; install the Shibboleth SP or point shibboleth-config at its shibboleth2.xml`
      )
    }
    const text = renderFreshConfig(want, templates)
    return {
      original: undefined,
      next: encodeXml(text, 'utf-8'),
      changed: true,
      changes: [`created ${configPath} from the shibboleth2.xml template`],
      diff: unifiedDiff('', text),
      recycleReason: moduleRecycleReason(undefined, text, want.host),
      // The template's Host (with its Path) is the app's entry; the rest of the file serves any SP use.
      added: 'Host'
    }
  }
  const original = fs.readFileSync(configPath)
  const { text, encoding } = decodeXml(original)
  const patched = patchShibbolethConfig(text, want)
  let next: Buffer
  try {
    next = patched.changed ? encodeXml(patched.text, encoding) : original
  } catch (e) {
    throw new InputError('shibboleth-host', `${(e as Error).message}; use an ASCII host name`)
  }
  return {
    original,
    next,
    changed: patched.changed,
    changes: patched.changes,
    diff: unifiedDiff(text, patched.text),
    recycleReason: patched.changed ? moduleRecycleReason(text, patched.text, want.host) : undefined,
    ...(patched.added ? { added: patched.added } : {})
  }
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
}

/** `shibboleth2.xml.20250101-120000.bak` beside the file; a second backup in the same second gets a suffix. */
function backupPathFor(configPath: string, date: Date): string {
  const base = `${configPath}.${timestamp(date)}`
  let candidate = `${base}.bak`
  for (let n = 2; fs.existsSync(candidate); n++) candidate = `${base}-${n}.bak`
  return candidate
}

/**
 * Patches the SP config when it differs from what the deploy needs (see commitShibbolethChange), and records the
 * RequestMap entry it added, so leaving `auth: shibboleth` removes exactly that (src/shibboleth/leave.ts).
 */
export async function applyShibboleth(options: ShibbolethApplyOptions): Promise<ShibbolethApplied> {
  const { configPath, log } = options
  const proposal = proposeShibbolethConfig(configPath, options.want, options.templates)
  if (!proposal.changed) {
    log.info(`${configPath} already protects the app; not written, ${options.service} not restarted.`)
    return { changed: false, backupPath: '', changes: [], diff: '', restore: async () => {} }
  }
  const record = options.deployRoot === undefined ? undefined : SpEntryRecord.read(options.deployRoot)
  const applied = await commitShibbolethChange(options, proposal)
  if (!record || !proposal.added) return applied
  record.add({ configPath, host: options.want.host, path: pathName(options.want.appPath), added: proposal.added })
  return withRecordRestore(applied, record)
}

/** The record goes back with the file: it must never name an entry that a restored file no longer has. */
export function withRecordRestore(applied: ShibbolethApplied, record: SpEntryRecord): ShibbolethApplied {
  return {
    ...applied,
    restore: async () => {
      record.restore()
      await applied.restore()
    }
  }
}

/**
 * Writes a changed SP config: backup beside it, atomic write, the SP's own check, then a service restart. A failed
 * check or restart puts the original back before throwing, so the SP is never left with a config it cannot load.
 */
export async function commitShibbolethChange(options: ShibbolethCommitOptions, proposal: ShibbolethProposal): Promise<ShibbolethApplied> {
  const { configPath, runner, log } = options
  const control = { service: options.service, net: options.net ?? 'net' }

  const elsewhere = checksOtherFile(options.check, configPath)
  if (elsewhere) log.warning(elsewhere)

  let backupPath = ''
  if (proposal.original) {
    backupPath = backupPathFor(configPath, (options.now ?? (() => new Date()))())
    fs.copyFileSync(configPath, backupPath, fs.constants.COPYFILE_EXCL)
    log.info(`Backed up ${configPath} to ${backupPath}.`)
  }
  const original = proposal.original
  const putBack = (): void => {
    if (original) writeFileAtomic(configPath, original)
    else fs.rmSync(configPath, { force: true })
  }

  options.beforeWrite?.({
    configPath,
    ...(backupPath ? { backupPath } : {}),
    ...(original ? { original } : {}),
    next: proposal.next,
    ...control,
    recycle: Boolean(proposal.recycleReason)
  })
  writeFileAtomic(configPath, proposal.next)
  for (const change of proposal.changes) log.info(`shibboleth2.xml: ${change}`)

  const checked = await checkShibbolethConfig(runner, options.check, configPath)
  if (!checked.ok) {
    putBack()
    throw new PhaseError(
      'shibboleth',
      `the Shibboleth SP rejected the patched ${configPath} (${checked.argv.join(' ')} exited ${checked.exitCode}); ${original ? `the original was restored from ${backupPath}` : 'the new file was removed'}. The checker said:\n${checkFailureSummary(checked)}`,
      'fix what the checker reports in shibboleth2.xml (or its included files) by hand and run again'
    )
  }
  log.info(`${checked.argv.join(' ')}: the SP accepts the patched config.`)

  try {
    await restartService(runner, control)
  } catch (e) {
    putBack()
    await restartService(runner, control).catch((again: unknown) =>
      log.warning(`Restarting ${control.service} with the original config failed too: ${asError(again).message}`)
    )
    throw e
  }
  log.info(`Restarted ${control.service}.`)
  // The backup just made is the newest, so it is always kept.
  for (const old of ourBackups(configPath).slice(Math.max(1, options.keepBackups ?? 5))) {
    fs.rmSync(old, { force: true })
    log.info(`Removed old backup ${old}.`)
  }

  let restored = false
  return {
    changed: true,
    backupPath,
    changes: proposal.changes,
    diff: proposal.diff,
    ...(proposal.recycleReason ? { recycleReason: proposal.recycleReason } : {}),
    restore: async () => {
      if (restored) return
      restored = true
      putBack()
      log.info(original ? `Restored ${configPath} from ${backupPath}.` : `Removed ${configPath}, which this deploy created.`)
      await restartService(runner, control)
    }
  }
}
