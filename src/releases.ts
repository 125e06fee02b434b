import fs from 'node:fs'
import path from 'node:path'
import { sameTarget, type DeployTarget } from './deploy-root-claim.js'
import { discardDir, removeDiscarded } from './discard.js'
import { processAlive } from './iis/lock.js'
import type { Layout } from './layout.js'
import type { StaticSettings } from './plan/static-location.js'
import type { DeployedSettings } from './rollback/deployed-settings.js'
import { writeFileAtomic } from './render/atomic-write.js'
import type { SharedPaths } from './inputs/shared-paths.js'
import { removeReleaseDir } from './shared/links.js'
import type { MediaServing } from './shared/media.js'

export type ReleaseState = 'staged' | 'live' | 'failed'

/** release.json: written by stage once the release is complete (so a folder without it never counts as one). */
export interface ReleaseMeta {
  id: string
  createdAt: string
  venvHash: string
  /** Same fingerprint, same release: a re-run reuses it instead of building and switching to a copy. */
  fingerprint?: string
  wsgiApplication?: string
  /** The collected static files, for verify (and for verify of this release after a rollback to it). */
  staticFiles?: string[]
  /** STATIC_URL and FORCE_SCRIPT_NAME as the settings write them: where a reuse of this release serves its static files. */
  staticSettings?: StaticSettings
  /** The URL Django rendered for one collected file in the preflight (static()): what verify fetches. */
  staticCheckUrl?: string
  /** Absent means staged. */
  state?: ReleaseState
  /** When the release last went live: the newest earlier one is the rollback target. */
  liveAt?: string
  /** The app it was built for. Absent in releases of earlier versions, which count as the deploying app's. */
  target?: DeployTarget
  /** The settings it last went live with, which a rollback to it applies again (src/rollback/deployed-settings.ts). */
  deployedWith?: DeployedSettings
  /**
   * Whether its deploy applied database migrations (set with the migrate input; absent without it), so a rollback
   * past it warns that the schema is not rolled back (src/rollback/migrations.ts).
   */
  migrationsApplied?: boolean
  /** The shared paths linked into it (shared-dirs, shared-files): deleting it removes these links, never their targets. */
  shared?: SharedPaths
  /** Where IIS serves its uploads (src/shared/media.ts): a reuse of the release writes that web.config again. */
  media?: MediaServing
  /** With migrate on: what its deploy applied, the commands that reverse it, and the SQLite copy taken before. */
  migrations?: { applied: string[]; reverse: string[]; sqliteBackup?: { file: string; backup: string } }
}

/** Whether a release is the app's to mark and prune (one deploy-root holds one app's; see deploy-root-claim). */
function ofTarget(release: ReleaseMeta, target: DeployTarget | undefined): boolean {
  return !release.target || !target || sameTarget(release.target, target)
}

export const RELEASE_FILE = 'release.json'

export function writeRelease(layout: Layout, meta: ReleaseMeta): void {
  writeFileAtomic(path.join(layout.releaseDir(meta.id), RELEASE_FILE), `${JSON.stringify(meta, null, 2)}\n`)
}

/** The manifest of the release in a folder, wherever it is (IIS names the live one by its physical path). */
export function readReleaseAt(dir: string): ReleaseMeta | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, RELEASE_FILE), 'utf8')) as ReleaseMeta
  } catch {
    return undefined
  }
}

export function readRelease(layout: Layout, id: string): ReleaseMeta | undefined {
  return readReleaseAt(layout.releaseDir(id))
}

/** A complete release with this fingerprint whose manifest names its own folder, if one exists. */
export function findReleaseByFingerprint(layout: Layout, fingerprint: string): ReleaseMeta | undefined {
  for (const name of releaseFolders(layout)) {
    const meta = readRelease(layout, name)
    if (meta?.fingerprint === fingerprint && meta.id === name) return meta
  }
  return undefined
}

/** Folder names under releases/; dot-folders are stage's scratch copies, never releases. */
function releaseFolders(layout: Layout): string[] {
  try {
    return fs
      .readdirSync(layout.releasesDir, { withFileTypes: true })
      .filter(e => e.isDirectory() && !e.name.startsWith('.'))
      .map(e => e.name)
  } catch {
    return []
  }
}

/**
 * Every release folder, newest first; a folder without release.json counts by its modification time. Dot-folders
 * are stage's scratch copies, never releases.
 */
export function listReleases(layout: Layout): ReleaseMeta[] {
  const releases = releaseFolders(layout).map(
    id =>
      readRelease(layout, id) ?? {
        id,
        createdAt: fs.statSync(layout.releaseDir(id)).mtime.toISOString(),
        venvHash: ''
      }
  )
  return releases.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
}

export function markRelease(layout: Layout, id: string, state: ReleaseState, now = new Date()): ReleaseMeta {
  const meta = readRelease(layout, id)
  if (!meta) throw new Error(`release ${id} has no ${RELEASE_FILE} under ${layout.releasesDir}`)
  const next: ReleaseMeta = { ...meta, state, ...(state === 'live' ? { liveAt: now.toISOString() } : {}) }
  writeRelease(layout, next)
  if (state === 'live') {
    // One live release per app: the one before keeps its liveAt, which makes it the rollback target.
    for (const other of listReleases(layout)) {
      if (other.id !== id && other.state === 'live' && ofTarget(other, meta.target)) writeRelease(layout, { ...other, state: 'staged' })
    }
  }
  return next
}

/**
 * Whether a release passed verify once: marked live, or it went live before (liveAt, set only after a verify passed)
 * and failed none since. A run killed between its switch and its verify leaves its release staged without liveAt.
 */
export function passedVerify(release: ReleaseMeta): boolean {
  return release.state === 'live' || (release.state !== 'failed' && release.liveAt !== undefined)
}

/** The app's release that passed verify most recently, other than `exclude`: where a rollback past an unverified one goes. */
export function lastVerifiedRelease(layout: Layout, target: DeployTarget, exclude: readonly string[]): ReleaseMeta | undefined {
  return listReleases(layout)
    .filter(r => !exclude.includes(r.id) && passedVerify(r) && ofTarget(r, target))
    .sort((a, b) => Number(b.state === 'live') - Number(a.state === 'live') || (b.liveAt ?? '').localeCompare(a.liveAt ?? ''))[0]
}

export function liveRelease(layout: Layout): ReleaseMeta | undefined {
  return listReleases(layout).find(r => r.state === 'live')
}

/** The release that was live most recently before `liveId` (default: the current live one): the rollback target. */
export function previousRelease(layout: Layout, liveId = liveRelease(layout)?.id, target?: DeployTarget): ReleaseMeta | undefined {
  return listReleases(layout)
    .filter(r => r.id !== liveId && r.state !== 'failed' && r.liveAt !== undefined && ofTarget(r, target))
    .sort((a, b) => (b.liveAt ?? '').localeCompare(a.liveAt ?? ''))[0]
}

export interface PruneResult {
  removedReleases: string[]
  removedVenvs: string[]
  /** Folders that could not be deleted now, and why: each is whole (kept) or out of the way (left over). */
  notRemoved: string[]
}

/**
 * Keeps the newest `keep` releases of `target` plus the live and the previous one whatever their age, and every
 * release of another app; then removes venvs that no kept release uses.
 */
export function pruneReleases(
  layout: Layout,
  keep: number,
  liveId: string | undefined,
  previousId: string | undefined,
  target?: DeployTarget
): PruneResult {
  removeDiscarded(layout.releasesDir, dir => removeReleaseDir(dir))
  removeDiscarded(layout.venvsDir, dir => fs.rmSync(dir, { recursive: true, force: true }))
  const notRemoved: string[] = []
  /** Whether the folder is no longer a release or venv: deleted, or renamed out of the way with its delete to finish. */
  const discard = (dir: string, remove: (dir: string) => void): boolean => {
    const { gone, left } = discardDir(dir, remove)
    if (left) notRemoved.push(left)
    return gone
  }
  const releases = listReleases(layout)
  const ours = releases.filter(r => ofTarget(r, target))
  const kept = new Set([...releases.filter(r => !ofTarget(r, target)), ...ours.slice(0, Math.max(keep, 0))].map(r => r.id))
  for (const id of [liveId, previousId]) if (id) kept.add(id)
  const removedReleases: string[] = []
  for (const r of releases) {
    if (kept.has(r.id)) continue
    if (discard(layout.releaseDir(r.id), dir => removeReleaseDir(dir, r.shared))) removedReleases.push(r.id)
    else kept.add(r.id)
  }
  // A release that could not be removed keeps its venv.
  const usedVenvs = new Set(releases.filter(r => kept.has(r.id)).map(r => r.venvHash.toLowerCase()))
  const removedVenvs: string[] = []
  let venvs: string[] = []
  try {
    venvs = fs
      .readdirSync(layout.venvsDir, { withFileTypes: true })
      .filter(e => e.isDirectory() && !e.name.startsWith('.'))
      .map(e => e.name)
  } catch {
    venvs = []
  }
  // A release without release.json does not say which venv it uses: keep every venv rather than guess.
  const unknownVenv = releases.some(r => kept.has(r.id) && r.venvHash === '')
  if (!unknownVenv) {
    for (const hash of venvs) {
      if (usedVenvs.has(hash.toLowerCase())) continue
      if (discard(layout.venvDir(hash), dir => fs.rmSync(dir, { recursive: true, force: true }))) removedVenvs.push(hash)
    }
  }
  return { removedReleases, removedVenvs, notRemoved }
}

/** Stage's scratch copy for one run: the pid in its name says whether the run that made it is still working. */
export function scratchDirFor(layout: Layout, releaseId: string, pid = process.pid): string {
  return path.join(layout.releasesDir, `.staging-pid${pid}-${releaseId}`)
}

/**
 * Removes scratch copies whose run is gone (a live run's copy is its work in progress). Names of earlier versions,
 * `.staging-<release>-<pid>`, carry the pid last. Returns the folders removed.
 */
export function removeAbandonedScratch(layout: Layout): string[] {
  let names: string[] = []
  try {
    names = fs.readdirSync(layout.releasesDir).filter(n => n.startsWith('.staging-'))
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const pid = Number((/^\.staging-pid(\d+)-/.exec(name) ?? /-(\d+)$/.exec(name))?.[1])
    if (pid > 0 && processAlive(pid)) continue
    removeReleaseDir(path.join(layout.releasesDir, name))
    removed.push(name)
  }
  return removed
}
