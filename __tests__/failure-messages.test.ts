import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import type { ProcessRunner } from '../src/process.js'
import { DISK_FULL_HINT, diskFullHint, ensureVenv } from '../src/python/venv.js'
import { apply, configFor, createTarget, stage } from './support/apply-fixture.js'
import { captureLog } from './support/iis-test-log.js'
import { tempDir } from './support/temp-dir.js'

// Failures name their cause once: a full disk as such, whichever tool ran into it; an apply failure in one line.
describe('disk full', () => {
  it('is recognised in POSIX and Windows wording', () => {
    expect(diskFullHint('OSError: [Errno 28] No space left on device')).toBe(DISK_FULL_HINT)
    expect(diskFullHint('ERROR: Could not install packages due to an OSError: [WinError 112] There is not enough space on the disk')).toBe(
      DISK_FULL_HINT
    )
    expect(diskFullHint('Error: ENOSPC: no space left on device, write')).toBe(DISK_FULL_HINT)
    expect(diskFullHint('ModuleNotFoundError: No module named django')).toBeUndefined()
  })

  async function failingVenv(stderr: string, exitAt: 'venv' | 'pip'): Promise<PhaseError> {
    const root = tempDir('disk-full')
    const runner: ProcessRunner = {
      run: async (_file, args) => {
        const isVenv = args.includes('venv')
        const fails = exitAt === 'venv' ? isVenv : !isVenv
        return { exitCode: fails ? 1 : 0, stdout: '', stderr: fails ? stderr : '', durationMs: 1 }
      }
    }
    const error = await ensureVenv(runner, captureLog(), {
      python: 'python3',
      venvDir: path.join(root, 'venvs', 'h1'),
      venvPython: path.join(root, 'venvs', 'h1', 'bin', 'python'),
      hash: 'h1',
      systemSitePackages: false,
      requirementsFile: path.join(root, 'requirements.txt'),
      pipArgs: [],
      extraRequirements: []
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PhaseError)
    return error as PhaseError
  }

  it('a venv build that fails for lack of space hints at the disk, not at the python input', async () => {
    const error = await failingVenv(
      "Error: Command '['/x/bin/python', '-m', 'ensurepip']' returned non-zero exit status 1.\n[Errno 28] No space left on device",
      'venv'
    )
    expect(error.hint).toBe(DISK_FULL_HINT)
    expect(error.hint).not.toMatch(/python input/)
  })

  it('pip failing for lack of space hints at the disk, not at pip-args', async () => {
    const error = await failingVenv('ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device', 'pip')
    expect(error.hint).toBe(DISK_FULL_HINT)
  })

  it('other venv failures keep their own hint', async () => {
    const error = await failingVenv('The virtual environment was not created successfully because ensurepip is not available.', 'venv')
    expect(error.hint).toMatch(/cannot create venvs/)
  })
})

describe('an apply failure', () => {
  it('adds no error line of its own: main prints the one error line', async () => {
    const t = createTarget()
    try {
      const config = configFor(t, 'r1')
      const desired = stage(t, config)
      t.sandbox.failAt(3)
      const error = await apply(t, config, desired).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(PhaseError)
      expect((error as PhaseError).rolledBack).toBe(true)
      expect(t.log.lines.filter(l => l.startsWith('error:'))).toEqual([])
      expect(t.log.lines.some(l => /^info: Apply failed at step/.test(l))).toBe(true)
    } finally {
      t.cleanup()
    }
  })
})
