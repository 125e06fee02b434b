/**
 * The run journal: one file per target under deploy-root (docs/iis-apply.md, "Run journal and recovery"). A deploy
 * writes it before apply and after every step; the next run reads it first and recovers an unfinished run
 * (src/journal/recover.ts). It holds no secret value: argv is masked and the variables' earlier values whose names
 * are secret are left out (src/journal/masking.ts).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { DeployTarget } from '../deploy-root-claim.js'
import type { CurrentState } from '../iis/state.js'
import type { Phase, Tool } from '../plan/types.js'
import { leftoverTempsOf, writeFileAtomic } from '../render/atomic-write.js'

export const JOURNAL_VERSION = 1

/**
 * applying: apply is under way; applied: apply ended, verify is under way. A run that ends well removes the file;
 * a file left in either state is an unfinished run.
 */
export type JournalState = 'applying' | 'applied'

export interface JournalStep {
  index: number
  phase: Phase
  tool: Tool
  /** Masked: a secret value shows as ***. */
  argv: string[]
  why: string
  mutates: boolean
  /** started: written before the call, so a crash after the call leaves it in doubt; failed: the tool refused it. */
  status: 'started' | 'done' | 'failed'
  error?: string
}

/** What the inverses need of the desired state (src/iis/undo.ts): names, paths and keys, never a value. */
export interface JournalDesired {
  hosting: 'fastcgi' | 'httpplatform'
  pool: { name: string }
  app: { site: string; path: string; pool: string; physicalPath: string }
  fastCgi?: { fullPath: string; arguments: string }
}

/**
 * The SP config change a run made (src/shibboleth/apply.ts), recorded before the file is written: recovery puts the
 * prior file back from its backup (beside the SP's file, never under the web root) and restarts the SP.
 */
export interface SpJournalEntry {
  configPath: string
  /** The copy of the prior file; absent when the run created the file. */
  backupPath?: string
  /** sha256 of the prior file (absent when there was none) and of the file the run wrote. */
  originalSha256?: string
  writtenSha256: string
  /** deploy-root's SP entry record (src/shibboleth/entry-record.ts) before the run; null when there was none. */
  entryRecord: string | null
  service: string
  net: string
  /** The change needed the site's pools recycled (the IIS module's <ISAPI> list): so does putting it back. */
  recycle: boolean
}

export interface RunJournal {
  version: typeof JOURNAL_VERSION
  target: DeployTarget
  releaseId: string
  /** The release had passed verify before this run (a redeploy of it): recovery does not mark it failed. */
  releaseVerifiedBefore: boolean
  startedAt: string
  updatedAt: string
  state: JournalState
  /** The run's appcmd backup: the fallback when an inverse fails. */
  backupName?: string
  /** What the app served before the switch, and the last release of this app that passed verify. */
  previousPhysicalPath?: string
  lastVerifiedRelease?: string
  /** IIS as read before the run; variables named in `maskedNames` carry MASKED instead of their value. */
  before: CurrentState
  maskedNames: string[]
  desired: JournalDesired
  /** deploy-root's location record (src/iis/location-record.ts) before the run; null when there was none. */
  locationRecord: string | null
  steps: JournalStep[]
  /** The SP config change, once the run is about to write it. */
  sp?: SpJournalEntry
}

/** Stands for a value the journal does not hold; an inverse that would need it falls back to the backup. */
export const MASKED = '(masked: not recorded)'

/** One journal per target (site + app path), named like the target's history file (src/history/store.ts). */
export function journalFileFor(deployRoot: string, target: DeployTarget): string {
  const name = `${target.site}${target.appPath}`.toLowerCase()
  const slug = name.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'root'
  const hash = crypto.createHash('sha256').update(name).digest('hex').slice(0, 8)
  return path.join(deployRoot, 'journal', `${slug}-${hash}.json`)
}

/** Atomic and flushed: a crash leaves the previous version or this one, never half a file. */
export function writeJournal(file: string, journal: RunJournal): void {
  writeFileAtomic(file, `${JSON.stringify(journal, null, 2)}\n`, { fsync: true })
}

export type JournalRead = { kind: 'none' } | { kind: 'journal'; journal: RunJournal } | { kind: 'unreadable'; reason: string }

export function readJournal(file: string): JournalRead {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' }
    return { kind: 'unreadable', reason: (err as Error).message }
  }
  try {
    const parsed = JSON.parse(text) as RunJournal
    if (parsed.version !== JOURNAL_VERSION || !Array.isArray(parsed.steps) || typeof parsed.releaseId !== 'string') {
      return { kind: 'unreadable', reason: `not a version ${JOURNAL_VERSION} run journal` }
    }
    return { kind: 'journal', journal: parsed }
  } catch (err) {
    return { kind: 'unreadable', reason: (err as Error).message }
  }
}

/** The run ended well (verified, or rolled back completely): nothing is left to recover. */
export function closeJournal(file: string): void {
  fs.rmSync(file, { force: true })
  // A run killed while it wrote the journal leaves the write's temp file. No other run is writing it: a target's
  // runs hold its locks, and the caller is the one that holds them now.
  for (const temp of leftoverTempsOf(file)) fs.rmSync(temp, { force: true })
}
