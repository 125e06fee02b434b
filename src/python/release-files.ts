import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/** Folders that never belong in a release: VCS data, caches, tooling. */
const SKIP_DIRS = new Set(['.git', '.hg', '.svn', '__pycache__', 'node_modules', 'venv', '.venv', '.tox', '.mypy_cache', '.pytest_cache'])
// .env holds a developer's (or CI's) secrets: under the web root it would be one misconfigured handler from public.
const SKIP_FILES = new Set(['db.sqlite3', '.env'])
const SKIP_EXTENSIONS = ['.pyc', '.pyo']

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
  /** More folders to leave out (absolute), e.g. the action's output-dir when it lies inside app-dir. */
  exclude?: readonly string[]
}

/**
 * Copies the Django project into a new release folder, leaving out what is machine-specific or generated:
 * VCS folders, caches, compiled Python, virtual environments, node_modules, the local SQLite database and the
 * project's own STATIC_ROOT. Returns the relative paths copied (with / separators).
 */
export function copyProject(appDir: string, releaseDir: string, options: CopyProjectOptions = {}): { files: string[] } {
  const source = path.resolve(appDir)
  const target = path.resolve(releaseDir)
  const staticRoot = options.staticRoot ? path.resolve(source, options.staticRoot) : undefined
  const excluded = new Set((options.exclude ?? []).map(p => path.resolve(p)))
  const files: string[] = []

  function walk(dir: string): void {
    const entries = fs.readdirSync(dir, { withFileTypes: true })
    for (const entry of entries) {
      const from = path.join(dir, entry.name)
      const rel = path.relative(source, from)
      // Following symlinks copies what they point at: a release must not depend on the developer's tree.
      const stat = entry.isSymbolicLink() ? fs.statSync(from, { throwIfNoEntry: false }) : entry
      if (!stat) continue
      if (stat.isDirectory()) {
        if (SKIP_DIRS.has(entry.name) || isVenv(from)) continue
        if (staticRoot && from === staticRoot) continue
        if (excluded.has(from)) continue
        // A deploy-root inside app-dir (its releases, venvs, logs) must not be copied into a release.
        if (isInside(target, from)) continue
        walk(from)
      } else if (stat.isFile()) {
        if (SKIP_FILES.has(entry.name) || SKIP_EXTENSIONS.some(ext => entry.name.endsWith(ext))) continue
        const to = path.join(target, rel)
        fs.mkdirSync(path.dirname(to), { recursive: true })
        fs.copyFileSync(from, to)
        files.push(rel.split(path.sep).join('/'))
      }
    }
  }

  fs.mkdirSync(target, { recursive: true })
  walk(source)
  return { files: files.sort() }
}

/** A digest of a folder's files (relative paths and contents), to tell whether a new release differs from the last. */
export function treeHash(dir: string): string {
  const root = path.resolve(dir)
  const entries = fs.readdirSync(root, { recursive: true, withFileTypes: true })
  const files = entries
    .filter(e => e.isFile())
    .map(e => path.join(e.parentPath, e.name))
    .map(abs => ({ abs, rel: path.relative(root, abs).split(path.sep).join('/') }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  const hash = createHash('sha256')
  for (const file of files) {
    const content = createHash('sha256').update(fs.readFileSync(file.abs)).digest('hex')
    hash.update(`${file.rel}\0${content}\n`)
  }
  return hash.digest('hex')
}
