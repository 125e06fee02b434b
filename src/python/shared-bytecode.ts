/**
 * The compiled bytecode of a new release's unchanged modules, shared with the release it shares their source with.
 *
 * The release check imports the app, and Python writes each module's bytecode into the release's `__pycache__`
 * folders (the IIS workers, which may only read the release, then load it from there). A new release held none, so
 * every deploy compiled again every module the app imports (README, Speed: 500 modules cost about a second).
 * A hard-linked source file is the same file, with the same size and modification time, which is what Python checks
 * a cached module against; a module whose file changed is not linked, and Python compiles it as before. Python
 * replaces a cache file by writing a new one and renaming it over, so a shared one never changes under the release
 * it came from.
 */
import fs from 'node:fs'
import path from 'node:path'

/** `mod.cpython-311.pyc` or `mod.cpython-311.opt-1.pyc` → `mod`; undefined for any other name. */
export function moduleOfCacheFile(name: string): string | undefined {
  if (!name.endsWith('.pyc')) return undefined
  const tagged = name.slice(0, -'.pyc'.length).replace(/\.opt-\d+$/, '')
  const dot = tagged.lastIndexOf('.')
  return dot > 0 ? tagged.slice(0, dot) : undefined
}

/**
 * Links into `releaseDir` the cache files that `sourceDir` holds for the modules named by `linkedModules` (relative
 * paths of `.py` files, with / separators, that were hard-linked from `sourceDir`). Returns how many it linked; a
 * link refused is left to Python, which compiles the module as it would have.
 */
export function shareBytecode(sourceDir: string, releaseDir: string, linkedModules: readonly string[]): number {
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
      const stem = moduleOfCacheFile(name)
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
