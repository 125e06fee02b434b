/**
 * deploy-root/shared/: the paths of shared-dirs and shared-files, kept outside every release and linked into each.
 * Windows: a directory junction for a folder (no privilege needed, local volumes only) and a file symbolic link for
 * a file (needs SeCreateSymbolicLinkPrivilege, which Administrators hold); elsewhere symbolic links. Why, and what
 * IIS and the pool need to follow them: docs/windows-facts.md, fs-junction, fs-file-symlink, fs-link-acl.
 */
import fs from 'node:fs'
import path from 'node:path'
import { PhaseError } from '../errors.js'
import type { SharedPaths } from '../inputs/shared-paths.js'
import type { Layout } from '../layout.js'

export type SharedKind = 'dir' | 'file'

export interface SharedEntry {
  rel: string
  kind: SharedKind
  input: 'shared-dirs' | 'shared-files'
}

export function sharedEntries(shared: SharedPaths): SharedEntry[] {
  return [
    ...shared.dirs.map(rel => ({ rel, kind: 'dir' as const, input: 'shared-dirs' as const })),
    ...shared.files.map(rel => ({ rel, kind: 'file' as const, input: 'shared-files' as const }))
  ]
}

/** Where one shared path lives, on this machine (links are made by the machine that runs the deploy). */
export function sharedTarget(layout: Layout, rel: string): string {
  return path.join(layout.sharedDir, ...rel.split('/'))
}

/** The paths of the project that stay out of every release's copy: the release links them instead. */
export function sharedExcludes(appDir: string, shared: SharedPaths): string[] {
  return sharedEntries(shared).map(e => path.resolve(appDir, ...e.rel.split('/')))
}

function kindOf(p: string): SharedKind | 'other' | undefined {
  const stat = fs.statSync(p, { throwIfNoEntry: false })
  if (!stat) return undefined
  return stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other'
}

/** Whether seedShared would create anything: a shared path not yet under deploy-root's shared folder. */
export function sharedToSeed(layout: Layout, shared: SharedPaths): boolean {
  return sharedEntries(shared).some(entry => kindOf(sharedTarget(layout, entry.rel)) !== entry.kind)
}

/**
 * Creates each shared path that does not exist yet: from the project's copy when it has one, else empty (an empty
 * folder, or an empty file, which SQLite takes as an empty database). An existing one is never touched: it holds
 * what the app wrote. The copy is made beside it and renamed, so a seed cut short is never taken for data.
 * Returns the paths created, with where from.
 */
export function seedShared(layout: Layout, shared: SharedPaths, appDir: string): string[] {
  const seeded: string[] = []
  for (const entry of sharedEntries(shared)) {
    const target = sharedTarget(layout, entry.rel)
    const found = kindOf(target)
    if (found === entry.kind) continue
    if (found !== undefined)
      throw new PhaseError(
        'stage',
        `${target} exists but is not a ${entry.kind === 'dir' ? 'folder' : 'file'}, as ${entry.input} lists '${entry.rel}'`,
        `list '${entry.rel}' in ${entry.kind === 'dir' ? 'shared-files' : 'shared-dirs'} instead, or move ${target} away`
      )
    const source = path.resolve(appDir, ...entry.rel.split('/'))
    const from = kindOf(source) === entry.kind ? source : undefined
    fs.mkdirSync(path.dirname(target), { recursive: true })
    const partial = `${target}.seeding-${process.pid}`
    fs.rmSync(partial, { recursive: true, force: true })
    if (entry.kind === 'dir') {
      if (from) fs.cpSync(from, partial, { recursive: true, dereference: true })
      else fs.mkdirSync(partial)
    } else if (from) fs.copyFileSync(from, partial)
    else fs.writeFileSync(partial, '')
    fs.renameSync(partial, target)
    seeded.push(`${entry.rel} (${from ? `from the project's ${entry.rel}` : 'empty: the project has none'})`)
  }
  return seeded
}

function makeLink(target: string, link: string, entry: SharedEntry): void {
  if (process.platform !== 'win32') {
    fs.symlinkSync(target, link, entry.kind)
    return
  }
  try {
    fs.symlinkSync(target, link, entry.kind === 'dir' ? 'junction' : 'file')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (entry.kind === 'file' && code === 'EPERM')
      throw new PhaseError(
        'stage',
        `a symbolic link for '${entry.rel}' (shared-files) needs the "Create symbolic links" right (SeCreateSymbolicLinkPrivilege), which the runner's account lacks`,
        `run the runner's service as an administrator, or put the file in a folder listed in shared-dirs (a junction needs no right)`,
        { cause: e }
      )
    throw e
  }
}

/** Whether `link` is already a link to `target` (a reused release, or a re-run): then it stays as it is. */
function linksTo(link: string, target: string): boolean {
  try {
    if (!fs.lstatSync(link).isSymbolicLink()) return false
    return path.resolve(path.dirname(link), fs.readlinkSync(link)).toLowerCase() === path.resolve(target).toLowerCase()
  } catch {
    return false
  }
}

/** Links every shared path into a release folder; the release's own copy, if one was made, gives way. */
export function linkShared(layout: Layout, shared: SharedPaths, releaseDir: string): void {
  for (const entry of sharedEntries(shared)) {
    const target = sharedTarget(layout, entry.rel)
    const link = path.join(releaseDir, ...entry.rel.split('/'))
    if (linksTo(link, target)) continue
    fs.mkdirSync(path.dirname(link), { recursive: true })
    unlinkOrRemove(link)
    makeLink(target, link, entry)
  }
}

/**
 * Removes what is at `p` without ever entering a link: a link (POSIX symlink, Windows junction or symlink, which
 * Node's lstat reports as symbolic links) loses only its own name, never its target's content.
 */
function unlinkOrRemove(p: string): void {
  const stat = fs.lstatSync(p, { throwIfNoEntry: false })
  if (!stat) return
  if (stat.isSymbolicLink()) {
    removeLink(p)
    return
  }
  fs.rmSync(p, { recursive: true, force: true })
}

/** A directory junction or directory symlink is removed as a directory entry on Windows, a file link by unlink. */
function removeLink(p: string): void {
  try {
    fs.unlinkSync(p)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'EPERM' && code !== 'EISDIR') throw e
    fs.rmdirSync(p)
  }
}

/**
 * Takes the shared links out of a release folder before it is deleted, so that deleting it can never recurse into
 * shared/ whatever the recursive delete does with links. `shared` is what the release recorded; links it did not
 * record (an older input) are found by looking for any link at the top two levels of the release.
 */
export function unlinkSharedFrom(releaseDir: string, shared: SharedPaths | undefined): string[] {
  const removed: string[] = []
  const candidates = new Set(sharedEntries(shared ?? { dirs: [], files: [] }).map(e => path.join(releaseDir, ...e.rel.split('/'))))
  for (const first of safeReaddir(releaseDir)) {
    const p = path.join(releaseDir, first.name)
    if (first.isSymbolicLink()) candidates.add(p)
    else if (first.isDirectory())
      for (const second of safeReaddir(p)) if (second.isSymbolicLink()) candidates.add(path.join(p, second.name))
  }
  for (const p of candidates) {
    if (!fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink()) continue
    removeLink(p)
    removed.push(p)
  }
  return removed
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
}

/** Deletes a release (or scratch) folder; its shared links go first, so shared/ is never entered. */
export function removeReleaseDir(dir: string, shared?: SharedPaths): void {
  unlinkSharedFrom(dir, shared)
  fs.rmSync(dir, { recursive: true, force: true })
}
