import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/** Folders that never belong in a release: VCS data, caches, tooling. */
const SKIP_DIRS = new Set(['.git', '.hg', '.svn', '__pycache__', 'node_modules', 'venv', '.venv', '.tox', '.mypy_cache', '.pytest_cache'])
// .env holds a developer's (or CI's) secrets: under the web root it would be one misconfigured handler from public.
const SKIP_FILES = new Set(['db.sqlite3', '.env'])
const SKIP_EXTENSIONS = ['.pyc', '.pyo']
/** Read size of the streaming hash: a file of any size costs this much memory. */
const HASH_CHUNK = 1024 * 1024

/** A virtual environment under any name (often `env`): it embeds the developer's paths and cannot be moved. */
function isVenv(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'pyvenv.cfg'))
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

export interface CopyProjectOptions {
  /** The project's own STATIC_ROOT (absolute): collected files of the developer's machine, not the release's. */
  staticRoot?: string | null
  /** More folders and files to leave out (absolute), e.g. output-dir inside app-dir, or the shared paths. */
  exclude?: readonly string[]
}

export interface ListProjectOptions extends CopyProjectOptions {
  /** Where the releases go (absolute): a folder of app-dir that holds it (a deploy-root inside app-dir) is left out. */
  target: string
}

/** One file of a release, as found in app-dir: the metadata that tells whether its content may have changed. */
export interface ProjectFile {
  /** Relative path with / separators. */
  rel: string
  abs: string
  size: number
  mtimeMs: number
}

/**
 * The files of the Django project that belong in a release, leaving out what is machine-specific or generated:
 * VCS folders, caches, compiled Python, virtual environments, node_modules, the local SQLite database and the
 * project's own STATIC_ROOT. Sorted by relative path; reads metadata only.
 */
export function listProject(appDir: string, options: ListProjectOptions): ProjectFile[] {
  const source = path.resolve(appDir)
  const target = path.resolve(options.target)
  const staticRoot = options.staticRoot ? path.resolve(source, options.staticRoot) : undefined
  const excluded = new Set((options.exclude ?? []).map(p => path.resolve(p)))
  const files: ProjectFile[] = []

  // Paths are joined by hand: an entry's name holds no separator, and path.join and path.relative on every one of
  // 10,000 files were a fifth of a no-op's stage (npm run bench, the scaling table).
  function walk(dir: string, relDir: string): void {
    const base = dir.endsWith(path.sep) ? dir : dir + path.sep
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const from = base + entry.name
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name
      if (entry.isDirectory() || entry.isSymbolicLink()) {
        // Following symlinks copies what they point at: a release must not depend on the developer's tree.
        const stat = fs.statSync(from, { throwIfNoEntry: false })
        if (!stat) continue
        if (stat.isDirectory()) {
          if (SKIP_DIRS.has(entry.name) || isVenv(from)) continue
          if ((staticRoot && from === staticRoot) || excluded.has(from)) continue
          // A deploy-root inside app-dir (its releases, venvs, logs) must not be copied into a release.
          if (isInside(target, from)) continue
          walk(from, rel)
          continue
        }
        if (!stat.isFile()) continue
      } else if (!entry.isFile()) continue
      if (SKIP_FILES.has(entry.name) || SKIP_EXTENSIONS.some(ext => entry.name.endsWith(ext))) continue
      if (excluded.has(from)) continue
      const stat = fs.statSync(from)
      files.push({ rel, abs: from, size: stat.size, mtimeMs: stat.mtimeMs })
    }
  }

  walk(source, '')
  return files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
}

/**
 * Copies the Django project into a new release folder (see listProject for what is left out). Returns the relative
 * paths copied (with / separators).
 */
export function copyProject(appDir: string, releaseDir: string, options: CopyProjectOptions = {}): { files: string[] } {
  const files = listProject(appDir, { ...options, target: releaseDir })
  assembleRelease(files, new Map(), releaseDir)
  return { files: files.map(f => f.rel) }
}

/** The release a new one shares unchanged files with: its folder, and which of the new files it holds as they are. */
export interface LinkSource {
  dir: string
  /** Whether the source's list gives `rel` the content hash the new release has for it. */
  holds(rel: string): boolean
}

/**
 * Fills a new release folder: a file whose content the link source has too becomes a hard link to that file (same
 * volume, no bytes copied); any other file, or one the file system refuses to link (another volume, no hard links,
 * the link limit), is copied from app-dir. linkedModules: the linked `.py` files, whose bytecode can be shared too
 * (src/python/shared-bytecode.ts). Release files are never written in place (rendered files replace by
 * rename: render/atomic-write.ts), so a shared file cannot change under another release, and deleting a release only
 * drops its own names.
 */
export function assembleRelease(
  files: readonly ProjectFile[],
  hashes: ReadonlyMap<string, string>,
  releaseDir: string,
  source?: LinkSource
): { linked: number; copied: number; linkedModules: string[] } {
  // Joined by hand, as listProject does: rel holds / only, and path.join on both sides of 10,000 links was a
  // tenth of a code change's stage at that size (npm run bench, the scaling table).
  const native = path.sep === '/' ? (rel: string) => rel : (rel: string) => rel.replaceAll('/', path.sep)
  const toBase = releaseDir.endsWith(path.sep) ? releaseDir : releaseDir + path.sep
  const fromBase = source ? (source.dir.endsWith(path.sep) ? source.dir : source.dir + path.sep) : ''
  const made = new Set<string>()
  const linkedModules: string[] = []
  let linked = 0
  for (const file of files) {
    const rel = native(file.rel)
    const to = toBase + rel
    const slash = file.rel.lastIndexOf('/')
    const relDir = slash < 0 ? '' : file.rel.slice(0, slash)
    if (!made.has(relDir)) {
      fs.mkdirSync(relDir ? toBase + native(relDir) : releaseDir, { recursive: true })
      made.add(relDir)
    }
    const hash = hashes.get(file.rel)
    if (source && hash !== undefined && source.holds(file.rel) && linkInto(fromBase + rel, to, file.size)) {
      linked++
      if (file.rel.endsWith('.py')) linkedModules.push(file.rel)
      continue
    }
    fs.copyFileSync(file.abs, to)
  }
  return { linked, copied: files.length - linked, linkedModules }
}

function linkInto(from: string, to: string, size: number): boolean {
  // A size that differs means the file is not what the source's list says: copy rather than share it.
  if (fs.statSync(from, { throwIfNoEntry: false })?.size !== size) return false
  try {
    fs.linkSync(from, to)
    return true
  } catch {
    // EXDEV, EPERM, EMLINK, ENOTSUP...: copying is always right, only slower.
    return false
  }
}

/** sha256 of a file's content, read in fixed chunks so that memory does not grow with the file. */
export function hashFile(file: string): string {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(HASH_CHUNK)
  const fd = fs.openSync(file, 'r')
  try {
    for (let n = fs.readSync(fd, buffer, 0, HASH_CHUNK, null); n > 0; n = fs.readSync(fd, buffer, 0, HASH_CHUNK, null)) {
      hash.update(buffer.subarray(0, n))
    }
  } finally {
    fs.closeSync(fd)
  }
  return hash.digest('hex')
}

/** The digest of a set of files from their relative paths and content hashes (order-independent). */
export function treeHashOf(hashes: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256')
  // Fed in batches: the digest of the concatenation is the same, and one native call per file cost ~2 µs each.
  let batch = ''
  for (const rel of [...hashes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    batch += `${rel}\0${hashes.get(rel)}\n`
    if (batch.length >= 65536) {
      hash.update(batch)
      batch = ''
    }
  }
  return hash.update(batch).digest('hex')
}

/** A digest of a folder's files (relative paths and contents), to tell whether a new release differs from the last. */
export function treeHash(dir: string): string {
  const root = path.resolve(dir)
  const hashes = new Map<string, string>()
  for (const e of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const abs = path.join(e.parentPath, e.name)
    hashes.set(path.relative(root, abs).split(path.sep).join('/'), hashFile(abs))
  }
  return treeHashOf(hashes)
}
