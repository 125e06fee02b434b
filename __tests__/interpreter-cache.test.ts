import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { interpreterCacheFile, probeInterpreterCached } from '../src/python/interpreter-cache.js'
import { countingRunner } from './support/counting-runner.js'
import { tempDir } from './support/temp-dir.js'

const SYSTEM_PYTHON = '/usr/bin/python3'

/** A launcher in front of the real interpreter, like py.exe or a pyenv shim: its own file can change. */
function launcher(dir: string): string {
  const file = path.join(dir, 'python-launcher')
  fs.writeFileSync(file, `#!/bin/sh\nexec ${SYSTEM_PYTHON} "$@"\n`, { mode: 0o755 })
  return file
}

describe('probeInterpreterCached', () => {
  it('probes once; a later run with the same interpreter files starts no process', async () => {
    const cache = interpreterCacheFile(path.join(tempDir('interp-cache'), 'deploy'))
    const runner = countingRunner()
    const first = await probeInterpreterCached(runner, SYSTEM_PYTHON, cache)
    expect(first.cached).toBe(false)
    expect(runner.calls).toHaveLength(1)
    // Nothing is written until the run may write under deploy-root.
    expect(fs.existsSync(cache)).toBe(false)
    first.remember()
    runner.reset()
    const second = await probeInterpreterCached(runner, SYSTEM_PYTHON, cache)
    expect(second).toMatchObject({ cached: true, interpreter: first.interpreter })
    expect(runner.calls).toHaveLength(0)
  })

  it('probes again when the python input file changes (size or mtime)', async () => {
    const dir = tempDir('interp-cache')
    const python = launcher(dir)
    const cache = interpreterCacheFile(path.join(dir, 'deploy'))
    const runner = countingRunner()
    ;(await probeInterpreterCached(runner, python, cache)).remember()
    expect((await probeInterpreterCached(runner, python, cache)).cached).toBe(true)
    fs.appendFileSync(python, '# upgraded\n')
    runner.reset()
    const after = await probeInterpreterCached(runner, python, cache)
    expect(after.cached).toBe(false)
    expect(runner.calls).toHaveLength(1)
  })

  it('probes again when the executable behind the input changed, and always for a bare command name', async () => {
    const dir = tempDir('interp-cache')
    const cache = interpreterCacheFile(path.join(dir, 'deploy'))
    const runner = countingRunner()
    const probe = await probeInterpreterCached(runner, SYSTEM_PYTHON, cache)
    probe.remember()
    const saved = JSON.parse(fs.readFileSync(cache, 'utf8')) as { executable: { mtimeMs: number } }
    saved.executable.mtimeMs -= 1000
    fs.writeFileSync(cache, JSON.stringify(saved))
    expect((await probeInterpreterCached(runner, SYSTEM_PYTHON, cache)).cached).toBe(false)
    const bare = await probeInterpreterCached(runner, 'python3', cache)
    bare.remember()
    expect((await probeInterpreterCached(runner, 'python3', cache)).cached).toBe(false)
  })

  it('probes again, once, over a cache an earlier version wrote without the cache tag', async () => {
    const cache = interpreterCacheFile(path.join(tempDir('interp-cache'), 'deploy'))
    const runner = countingRunner()
    ;(await probeInterpreterCached(runner, SYSTEM_PYTHON, cache)).remember()
    const saved = JSON.parse(fs.readFileSync(cache, 'utf8')) as { version: number; interpreter: Record<string, unknown> }
    delete saved.interpreter.cacheTag
    fs.writeFileSync(cache, JSON.stringify({ ...saved, version: 1 }))
    runner.reset()
    const again = await probeInterpreterCached(runner, SYSTEM_PYTHON, cache)
    expect(again.cached).toBe(false)
    expect(again.interpreter.cacheTag).toMatch(/^cpython-3\d+$/)
    again.remember()
    expect(await probeInterpreterCached(runner, SYSTEM_PYTHON, cache)).toMatchObject({ cached: true, interpreter: again.interpreter })
    expect(runner.calls).toHaveLength(1)
  })
})
