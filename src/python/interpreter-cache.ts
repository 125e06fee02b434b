import fs from 'node:fs'
import path from 'node:path'
import type { ProcessRunner } from '../process.js'
import { writeFileAtomic } from '../render/atomic-write.js'
import { probeInterpreter, type Interpreter } from './interpreter.js'

/** What identifies one build of an interpreter file: replaced or upgraded in place, its size or mtime changes. */
interface FileStamp {
  path: string
  size: number
  mtimeMs: number
}

/** 2: the answers hold cacheTag. A cache of another version is probed again, once. */
const CACHE_VERSION = 2

interface InterpreterCache {
  version: typeof CACHE_VERSION
  input: FileStamp
  executable: FileStamp
  interpreter: Interpreter
}

function stampOf(file: string): FileStamp | undefined {
  const stat = fs.statSync(file, { throwIfNoEntry: false })
  return stat?.isFile() ? { path: path.resolve(file), size: stat.size, mtimeMs: stat.mtimeMs } : undefined
}

const sameStamp = (a: FileStamp | undefined, b: FileStamp | undefined): boolean =>
  !!a && !!b && a.path === b.path && a.size === b.size && a.mtimeMs === b.mtimeMs

export interface CachedProbe {
  interpreter: Interpreter
  /** Whether the answers came from the cache (no interpreter started). */
  cached: boolean
  /** Writes a fresh probe's answers to the cache: called once the run may write under deploy-root. */
  remember(): void
}

/**
 * The interpreter's answers, from the cache when neither the python input's file nor the executable behind it
 * (a launcher or shim may point elsewhere) changed size or mtime since it was probed; else a probe.
 * A bare command name is looked up on PATH by the probe itself, so it is always probed.
 */
export async function probeInterpreterCached(runner: ProcessRunner, python: string, cacheFile: string): Promise<CachedProbe> {
  const input = path.isAbsolute(python) ? stampOf(python) : undefined
  if (input) {
    try {
      const cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as InterpreterCache
      if (
        cache.version === CACHE_VERSION &&
        sameStamp(cache.input, input) &&
        sameStamp(cache.executable, stampOf(cache.interpreter.executable))
      )
        return { interpreter: cache.interpreter, cached: true, remember: () => undefined }
    } catch {
      // No cache yet, or a damaged one: probe.
    }
  }
  const interpreter = await probeInterpreter(runner, python)
  const remember = (): void => {
    const executable = stampOf(interpreter.executable)
    if (!input || !executable) return
    try {
      const cache: InterpreterCache = { version: CACHE_VERSION, input, executable, interpreter }
      writeFileAtomic(cacheFile, `${JSON.stringify(cache, null, 2)}\n`)
    } catch {
      // A cache that cannot be written only costs the next run a probe.
    }
  }
  return { interpreter, cached: false, remember }
}

/** Where the cache lives: under deploy-root, with the other caches of the runs that deploy there. */
export function interpreterCacheFile(deployRoot: string): string {
  return path.join(deployRoot, 'cache', 'interpreter.json')
}
