/**
 * The compiled bytecode of a new release's unchanged modules, shared with the release it shares their source with.
 *
 * The release check imports the app, and Python writes each module's bytecode into the release's `__pycache__`
 * folders (the IIS workers, which may only read the release, then load it from there). A new release held none, so
 * every deploy compiled again every module the app imports (README, Speed: 500 modules cost about a second).
 * A hard-linked source file is the same file, with the same size and modification time (docs/windows-facts.md,
 * fs-hardlink-mtime), which is what Python checks a cached module against; a module whose file changed is not
 * linked, and Python compiles it as before. Python replaces a cache file by writing a new one and renaming it over,
 * so a shared one never changes under the release it came from. Only the venv interpreter's files are shared
 * (docs/design-decisions.md).
 */
import fs from 'node:fs'
import path from 'node:path'

/**
 * `mod.cpython-311.pyc` or `mod.cpython-311.opt-1.pyc` → `mod` when `cacheTag` is `cpython-311`; undefined for any
 * other name, another interpreter's cache files included: after a Python upgrade, those of the old one would only be
 * carried from release to release. The optimization level is alphanumeric (importlib.util.cache_from_source).
 */
export function moduleOfCacheFile(name: string, cacheTag: string): string | undefined {
  const tail = /\.opt-[0-9A-Za-z]+\.pyc$/.exec(name)?.[0] ?? (name.endsWith('.pyc') ? '.pyc' : undefined)
  if (tail === undefined) return undefined
  const tagged = name.slice(0, -tail.length)
  const stem = tagged.slice(0, -(cacheTag.length + 1))
  return stem && tagged === `${stem}.${cacheTag}` ? stem : undefined
}

/**
 * Links into `releaseDir` the cache files that `sourceDir` holds for the modules named by `linkedModules` (relative
 * paths of `.py` files, with / separators, that were hard-linked from `sourceDir`), those of the interpreter whose
 * `cacheTag` is given only (null: it writes none, so none is linked). Returns how many it linked; a link refused is
 * left to Python, which compiles the module as it would have.
 */
export function shareBytecode(sourceDir: string, releaseDir: string, linkedModules: readonly string[], cacheTag: string | null): number {
  if (cacheTag === null) return 0
  const byDir = new Map<string, Set<string>>()
  for (const rel of linkedModules) {
    const slash = rel.lastIndexOf('/')
    const dir = slash < 0 ? '' : rel.slice(0, slash)
    const stems = byDir.get(dir) ?? new Set<string>()
    stems.add(rel.slice(slash + 1, -'.py'.length))
    byDir.set(dir, stems)
  }
  let shared = 0
  for (const [dir, stems] of byDir) {
    const from = path.join(sourceDir, ...dir.split('/').filter(Boolean), '__pycache__')
    let names: string[]
    try {
      names = fs.readdirSync(from)
    } catch {
      continue
    }
    const to = path.join(releaseDir, ...dir.split('/').filter(Boolean), '__pycache__')
    let made = false
    for (const name of names) {
      const stem = moduleOfCacheFile(name, cacheTag)
      if (stem === undefined || !stems.has(stem)) continue
      try {
        // Once per folder, and only for a folder that gets a file.
        if (!made) fs.mkdirSync(to, { recursive: true })
        made = true
        fs.linkSync(path.join(from, name), path.join(to, name))
        shared++
      } catch {
        // Another volume, no hard links, the link limit: Python compiles the module instead.
      }
    }
  }
  return shared
}
