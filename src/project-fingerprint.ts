import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { hashFile, treeHashOf, type ProjectFile } from './python/release-files.js'
import { jsonObjectChunks, writeChunksAtomic } from './render/atomic-write.js'

/**
 * A file modified this close to the moment the cache was written may have changed again within the same mtime tick
 * (FAT keeps 2 s): its metadata proves nothing, so it is hashed again.
 */
const RACY_MS = 2000

interface CachedFile {
  size: number
  mtimeMs: number
  hash: string
}

interface ProjectCache {
  version: 1
  appDir: string
  writtenAtMs: number
  files: Record<string, CachedFile>
}

export interface ProjectHashes {
  /** The same digest treeHash gives for a copy of these files: releases staged before the cache keep matching. */
  treeHash: string
  hashes: Map<string, string>
  /** How many files were read because their metadata changed (or nothing was known of them). */
  hashed: number
}

function* cacheChunks(head: string, files: readonly ProjectFile[], hashes: ReadonlyMap<string, string>): Generator<string> {
  yield `${head.slice(0, -1)},"files":`
  yield* jsonObjectChunks(cacheEntries(files, hashes))
  yield '}'
}

function* cacheEntries(files: readonly ProjectFile[], hashes: ReadonlyMap<string, string>): Generator<[string, CachedFile]> {
  for (const file of files) yield [file.rel, { size: file.size, mtimeMs: file.mtimeMs, hash: hashes.get(file.rel)! }]
}

/** The metadata cache of one app-dir, under deploy-root beside the releases it describes. */
export function projectCacheFile(deployRoot: string, appDir: string): string {
  const key = createHash('sha256').update(path.resolve(appDir)).digest('hex').slice(0, 16)
  return path.join(deployRoot, 'cache', `project-${key}.json`)
}

function readCache(file: string, appDir: string): ProjectCache | undefined {
  try {
    const cache = JSON.parse(fs.readFileSync(file, 'utf8')) as ProjectCache
    return cache.version === 1 && cache.appDir === path.resolve(appDir) && typeof cache.files === 'object' ? cache : undefined
  } catch {
    // Missing or damaged: every file is hashed once more, which is slower and never wrong.
    return undefined
  }
}

/**
 * Racy files whose content proved unchanged are read again by the next run rather than rewriting an entry for every
 * project file: a few files edited just before a deploy cost less to read than a 10,000-entry cache costs to write
 * (npm run bench, no-op at 10,000 files). Past this many, the rewrite is the cheaper of the two.
 */
const RACY_REREAD_LIMIT = 64

/**
 * The content hash of every project file, reading only the files whose path, size or mtime differ from the cache
 * (so a no-op reads metadata, not content); the cache is rewritten when what it says changed.
 */
export function hashProject(files: readonly ProjectFile[], appDir: string, cacheFile: string, now = Date.now()): ProjectHashes {
  const cache = readCache(cacheFile, appDir)
  const hashes = new Map<string, string>()
  let hashed = 0
  let changed = 0
  let racySame = 0
  for (const file of files) {
    const known = cache?.files[file.rel]
    const sameMeta = known !== undefined && known.size === file.size && known.mtimeMs === file.mtimeMs
    if (sameMeta && cache!.writtenAtMs - file.mtimeMs > RACY_MS) {
      hashes.set(file.rel, known.hash)
      continue
    }
    hashed++
    const hash = hashFile(file.abs)
    hashes.set(file.rel, hash)
    if (sameMeta && hash === known.hash) racySame++
    else changed++
  }
  // The same number of files, all of them known: none was removed.
  const removed = !cache || (changed === 0 ? Object.keys(cache.files).length !== files.length : false)
  if (changed > 0 || removed || racySame > RACY_REREAD_LIMIT) {
    // Written entry by entry, in ProjectCache's shape: the whole text of a large project is never in memory.
    const head = JSON.stringify({ version: 1, appDir: path.resolve(appDir), writtenAtMs: now } satisfies Omit<ProjectCache, 'files'>)
    writeChunksAtomic(cacheFile, cacheChunks(head, files, hashes))
  }
  return { treeHash: treeHashOf(hashes), hashes, hashed }
}
