import path from 'node:path'
import type { Layout } from './layout.js'
import { assembleRelease, type LinkSource, type ProjectFile } from './python/release-files.js'
import { shareBytecode } from './python/shared-bytecode.js'
import { listReleases, liveRelease } from './releases.js'
import { jsonObjectChunks, writeChunksAtomic } from './render/atomic-write.js'
import { readJsonStringPairs } from './render/json-pairs-reader.js'

/** Beside release.json: the content hash of each project file of the release, so a later one can share them. */
export const RELEASE_FILES_FILE = 'release.files.json'

export function writeReleaseFiles(releaseDir: string, hashes: ReadonlyMap<string, string>): void {
  writeChunksAtomic(path.join(releaseDir, RELEASE_FILES_FILE), jsonObjectChunks(hashes))
}

/**
 * The files of `releaseDir` whose content hash its list gives as `hashes` does: read entry by entry, so only their
 * names are kept (a parsed 50,000-entry list was node's peak memory in a code change, npm run bench). Undefined
 * when the release has no readable list.
 */
function sameFilesIn(releaseDir: string, hashes: ReadonlyMap<string, string>): Set<string> | undefined {
  const same = new Set<string>()
  try {
    // A name listed twice counts as JSON.parse would read it: the last entry holds.
    const whole = readJsonStringPairs(path.join(releaseDir, RELEASE_FILES_FILE), (rel, hash) => {
      if (hashes.get(rel) === hash) same.add(rel)
      else same.delete(rel)
    })
    return whole ? same : undefined
  } catch {
    return undefined
  }
}

/**
 * The release a new one shares files with: the live one (what the next release most resembles), else the newest
 * that lists its files. Releases staged before the list existed share nothing; their files are copied.
 */
export function linkSourceFor(layout: Layout, hashes: ReadonlyMap<string, string>): (LinkSource & { id: string }) | undefined {
  const live = liveRelease(layout)
  const candidates = [...(live ? [live] : []), ...listReleases(layout).filter(r => r.id !== live?.id)]
  for (const release of candidates) {
    const dir = layout.releaseDir(release.id)
    const same = sameFilesIn(dir, hashes)
    if (same) return { id: release.id, dir, holds: rel => same.has(rel) }
  }
  return undefined
}

/**
 * A new release's project files, shared with the link source where their content is the same, with the bytecode
 * the interpreter of `cacheTag` compiled for those that are modules, then their list.
 */
export function buildReleaseTree(
  layout: Layout,
  files: readonly ProjectFile[],
  hashes: ReadonlyMap<string, string>,
  dir: string,
  cacheTag: string | null
): { linked: number; copied: number; bytecode: number; from?: string } {
  const { result, from } = shareWithLinkSource(layout, files, hashes, dir, cacheTag)
  writeReleaseFiles(dir, hashes)
  return { ...result, ...(from ? { from } : {}) }
}

/** Kept apart so the link source's file list (one entry per file) can be collected before the new list is written. */
function shareWithLinkSource(
  layout: Layout,
  files: readonly ProjectFile[],
  hashes: ReadonlyMap<string, string>,
  dir: string,
  cacheTag: string | null
): { result: { linked: number; copied: number; bytecode: number }; from?: string } {
  const source = linkSourceFor(layout, hashes)
  const { linked, copied, linkedModules } = assembleRelease(files, hashes, dir, source)
  const bytecode = source ? shareBytecode(source.dir, dir, linkedModules, cacheTag) : 0
  return { result: { linked, copied, bytecode }, ...(source ? { from: source.id } : {}) }
}
