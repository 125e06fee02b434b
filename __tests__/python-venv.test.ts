import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { layoutFor } from '../src/layout.js'
import { probeInterpreter, type Interpreter } from '../src/python/interpreter.js'
import { VENV_MARKER, ensureVenv, findWfastcgi, venvHash, type EnsureVenvOptions } from '../src/python/venv.js'
import { captureLog } from './support/iis-test-log.js'
import { countingRunner } from './support/counting-runner.js'
import { SYSTEM_PYTHON, WFASTCGI_WHEEL, buildWheelhouse } from './support/wheelhouse.js'

const baseHashInput = {
  interpreterVersion: '3.11.2',
  interpreterPath: '/usr/bin/python3.11',
  requirementsText: 'Django>=3.2\n',
  pipArgs: ['--no-index'],
  extraRequirements: ['wfastcgi==3.0.0'],
  systemSitePackages: true
}

describe('venvHash', () => {
  it('is 12 hex characters and stable for the same inputs', () => {
    const hash = venvHash(baseHashInput)
    expect(hash).toMatch(/^[0-9a-f]{12}$/)
    expect(venvHash({ ...baseHashInput })).toBe(hash)
  })

  it('ignores CRLF line ends in the requirements', () => {
    expect(venvHash({ ...baseHashInput, requirementsText: 'Django>=3.2\r\n' })).toBe(venvHash(baseHashInput))
  })

  it('changes with each input that decides the venv contents', () => {
    const hash = venvHash(baseHashInput)
    const variants = [
      { interpreterVersion: '3.11.3' },
      { interpreterPath: '/opt/python/bin/python3.11' },
      { requirementsText: 'Django>=4.2\n' },
      { pipArgs: ['--no-index', '--find-links', '/wheels'] },
      { extraRequirements: ['waitress'] },
      { systemSitePackages: false }
    ]
    const hashes = variants.map(v => venvHash({ ...baseHashInput, ...v }))
    expect(new Set([hash, ...hashes]).size).toBe(variants.length + 1)
  })
})

describe('probeInterpreter', () => {
  it('reports version, major.minor, executable, base prefix and cache tag of a real interpreter', async () => {
    const info = await probeInterpreter(countingRunner(), SYSTEM_PYTHON)
    expect(info.version).toMatch(/^3\.\d+\.\d+/)
    expect(info.version.startsWith(`${info.majorMinor}.`)).toBe(true)
    expect(path.isAbsolute(info.executable)).toBe(true)
    expect(info.basePrefix).toBe('/usr')
    // CPython names its cache files cpython-<major><minor> (PEP 3147).
    expect(info.cacheTag).toBe(`cpython-${info.majorMinor.replace('.', '')}`)
  })

  it('names the python input when the interpreter does not exist', async () => {
    const error = await probeInterpreter(countingRunner(), '/nonexistent/python3.99').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PhaseError)
    expect((error as PhaseError).message).toBe("python '/nonexistent/python3.99' not found; set the python input")
  })
})

describe('ensureVenv (real python -m venv and offline pip)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'venv-test-'))
  const layout = layoutFor(root)
  const runner = countingRunner()
  const log = captureLog()
  let interpreter: Interpreter
  let wheelhouse: string
  let requirements: string

  function options(hash: string, overrides: Partial<EnsureVenvOptions> = {}): EnsureVenvOptions {
    return {
      python: SYSTEM_PYTHON,
      venvDir: layout.venvDir(hash),
      venvPython: layout.venvPython(hash),
      hash,
      systemSitePackages: true,
      requirementsFile: requirements,
      pipArgs: ['--no-index', '--find-links', wheelhouse],
      extraRequirements: ['wfastcgi==3.0.0'],
      ...overrides
    }
  }

  beforeAll(async () => {
    interpreter = await probeInterpreter(runner, SYSTEM_PYTHON)
    wheelhouse = await buildWheelhouse(path.join(root, 'wheels'))
    requirements = path.join(root, 'requirements.txt')
    // Debian's python3-django satisfies this through --system-site-packages, without an index.
    fs.writeFileSync(requirements, 'Django>=3.2\n')
  })

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  it('builds a venv with the requirements and the wfastcgi wheel, then reuses it without running anything', async () => {
    expect(fs.existsSync(path.join(wheelhouse, WFASTCGI_WHEEL))).toBe(true)
    const hash = 'aaaaaaaaaaaa'
    runner.reset()
    expect(await ensureVenv(runner, log, options(hash))).toEqual({ reused: false })
    expect(runner.calls.map(c => c.args.slice(0, 2).join(' '))).toEqual(['-m venv', '-m pip', '-m pip'])
    expect(runner.calls[0]?.args).toContain('--system-site-packages')
    expect(JSON.parse(fs.readFileSync(path.join(layout.venvDir(hash), VENV_MARKER), 'utf8')).hash).toBe(hash)

    const wfastcgi = await findWfastcgi(runner, layout.venvPython(hash))
    expect(wfastcgi).toBe(path.join(layout.venvSitePackages(hash, interpreter.majorMinor), 'wfastcgi.py'))
    expect(fs.readFileSync(wfastcgi, 'utf8')).toContain("NOT Microsoft's wfastcgi")

    runner.reset()
    expect(await ensureVenv(runner, log, options(hash))).toEqual({ reused: true })
    expect(runner.calls).toHaveLength(0)
  })

  it('rebuilds in place when the hash differs (changed requirements)', async () => {
    const first = venvHash({ ...baseHashInput, requirementsText: 'Django>=3.2\n' })
    await ensureVenv(runner, log, options(first, { extraRequirements: [] }))
    fs.writeFileSync(path.join(layout.venvDir(first), 'left-over-from-old-build'), 'x')

    const changed = venvHash({ ...baseHashInput, requirementsText: 'Django>=3.2\nwfastcgi==3.0.0\n' })
    expect(changed).not.toBe(first)
    runner.reset()
    // Same folder, other hash: the marker no longer matches, so the venv is built anew.
    const result = await ensureVenv(runner, log, options(changed, { venvDir: layout.venvDir(first), venvPython: layout.venvPython(first) }))
    expect(result).toEqual({ reused: false })
    expect(runner.calls.length).toBeGreaterThan(0)
    expect(fs.existsSync(path.join(layout.venvDir(first), 'left-over-from-old-build'))).toBe(false)
    expect(JSON.parse(fs.readFileSync(path.join(layout.venvDir(first), VENV_MARKER), 'utf8')).hash).toBe(changed)
    expect(await findWfastcgi(runner, layout.venvPython(first))).toMatch(/wfastcgi\.py$/)
  })

  it('fails with pip output and an offline hint, and never marks the failed venv as reusable', async () => {
    const broken = path.join(root, 'broken-requirements.txt')
    fs.writeFileSync(broken, 'definitely-not-a-package-in-the-wheelhouse==1.0\n')
    const hash = 'bbbbbbbbbbbb'
    const error = await ensureVenv(runner, log, options(hash, { requirementsFile: broken })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PhaseError)
    expect((error as PhaseError).message).toContain('definitely-not-a-package-in-the-wheelhouse')
    expect((error as PhaseError).hint).toContain('--no-index --find-links')
    expect(fs.existsSync(path.join(layout.venvDir(hash), VENV_MARKER))).toBe(false)

    runner.reset()
    await ensureVenv(runner, log, options(hash))
    expect(runner.calls[0]?.args.slice(0, 2)).toEqual(['-m', 'venv'])
  })

  it('says so when wfastcgi is not in the venv', async () => {
    const hash = 'cccccccccccc'
    await ensureVenv(runner, log, options(hash, { extraRequirements: [] }))
    const error = await findWfastcgi(runner, layout.venvPython(hash)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PhaseError)
    expect((error as PhaseError).message).toContain('wfastcgi is not importable')
    expect((error as PhaseError).hint).toContain('wfastcgi input')
  })
})
