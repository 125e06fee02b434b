import { createHash } from 'node:crypto'
import path from 'node:path'
import { hashFile, treeHashOf, type ProjectFile } from './python/release-files.js'
import { jsonObjectChunks, writeChunksAtomic } from './render/atomic-write.js'
import { readJsonStringPairs } from './render/json-pairs-reader.js'

/**
 * A file modified this close to the moment the cache was written may have changed again within the same mtime tick
 * (FAT keeps 2 s): its metadata proves nothing, so it is hashed again.
 */
const RACY_MS = 2000

/**
 * The cache is one flat JSON object of strings, read entry by entry (render/json-pairs-reader.ts): first the head
 * under the key '', then each file as `"<rel>": "<size> <mtimeMs> <sha256>"`. A parsed cache of 50,000 files (one
 * object each, after the whole text) was a fifth of node's peak memory in a code change (npm run bench). A cache in
 * the shape of version 1 is not read: every file is hashed once more.
 */
interface CacheHead {
  version: 2
  appDir: string
  writtenAtMs: number
}

const HEAD_KEY = ''
const ENTRY = /^(\d+) (\S+) ([0-9a-f]{64})$/

/** What the cache says of the files listed now: the hash of each whose size and mtime it holds unchanged. */
interface KnownFiles {
  writtenAtMs: number
  /** `<rel>` to the cached hash, for files whose size and mtime match. */
  hashes: Map<string, string>
  /** How many files the cache lists, listed now or not. */
  entries: number
}

export interface ProjectHashes {
  /** The same digest treeHash gives for a copy of these files: releases staged before the cache keep matching. */
  treeHash: string
  hashes: Map<string, string>
  /** How many files were read because their metadata changed (or nothing was known of them). */
  hashed: number
}

function* cacheEntries(head: CacheHead, files: readonly ProjectFile[], hashes: ReadonlyMap<string, string>): Generator<[string, string]> {
  yield [HEAD_KEY, JSON.stringify(head)]
  for (const file of files) yield [file.rel, `${file.size} ${file.mtimeMs} ${hashes.get(file.rel)!}`]
}

/** The metadata cache of one app-dir, under deploy-root beside the releases it describes. */
export function projectCacheFile(deployRoot: string, appDir: string): string {
  const key = createHash('sha256').update(path.resolve(appDir)).digest('hex').slice(0, 16)
  return path.join(deployRoot, 'cache', `project-${key}.json`)
}

function readHead(text: string, appDir: string): CacheHead | undefined {
  try {
    const head = JSON.parse(text) as Partial<CacheHead>
    return head.version === 2 && head.appDir === path.resolve(appDir) && typeof head.writtenAtMs === 'number'
      ? (head as CacheHead)
      : undefined
  } catch {
    return undefined
  }
}

function readCache(file: string, appDir: string, listed: ReadonlyMap<string, ProjectFile>): KnownFiles | undefined {
  let head: CacheHead | undefined
  const hashes = new Map<string, string>()
  let entries = 0
  try {
    const whole = readJsonStringPairs(file, (rel, value) => {
      if (!head) {
        head = rel === HEAD_KEY ? readHead(value, appDir) : undefined
        return head !== undefined
      }
      const entry = ENTRY.exec(value)
      if (!entry) return false
      entries++
      const now = listed.get(rel)
      if (now && Number(entry[1]) === now.size && Number(entry[2]) === now.mtimeMs) hashes.set(now.rel, entry[3])
      return true
    })
    return whole && head ? { writtenAtMs: head.writtenAtMs, hashes, entries } : undefined
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
  const known = readCache(cacheFile, appDir, new Map(files.map(file => [file.rel, file])))
  const hashes = new Map<string, string>()
  let hashed = 0
  let changed = 0
  let racySame = 0
  for (const file of files) {
    const cached = known?.hashes.get(file.rel)
    if (cached !== undefined && known!.writtenAtMs - file.mtimeMs > RACY_MS) {
      hashes.set(file.rel, cached)
      continue
    }
    hashed++
    const hash = hashFile(file.abs)
    hashes.set(file.rel, hash)
    if (cached === hash) racySame++
    else changed++
  }
  // The same number of files, all of them known: none was removed.
  const removed = !known || (changed === 0 ? known.entries !== files.length : false)
  if (changed > 0 || removed || racySame > RACY_REREAD_LIMIT) {
    // Written entry by entry: the whole text of a large project is never in memory.
    const head: CacheHead = { version: 2, appDir: path.resolve(appDir), writtenAtMs: now }
    writeChunksAtomic(cacheFile, jsonObjectChunks(cacheEntries(head, files, hashes)))
  }
  return { treeHash: treeHashOf(hashes), hashes, hashed }
}
