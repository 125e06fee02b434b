import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { PhaseError } from '../errors.js'
import type { Log } from '../log.js'
import type { ProcessResult, ProcessRunner } from '../process.js'
import { toolEnv } from './environment.js'
import { outputTail } from './output.js'

/** Written last into a finished venv: a venv without it (or with another hash) is a failed or stale build. */
export const VENV_MARKER = '.django-iis-deploy.json'

export interface VenvHashInput {
  interpreterVersion: string
  interpreterPath: string
  requirementsText: string
  pipArgs: readonly string[]
  extraRequirements: readonly string[]
  systemSitePackages: boolean
}

/** Names a venv by everything that decides its contents, so an unchanged venv is reused and a changed one rebuilt. */
export function venvHash(input: VenvHashInput): string {
  const canonical = JSON.stringify({
    interpreterVersion: input.interpreterVersion,
    interpreterPath: input.interpreterPath,
    // A checkout with CRLF line ends must not rebuild the venv.
    requirementsText: input.requirementsText.replace(/\r\n/g, '\n'),
    pipArgs: [...input.pipArgs],
    extraRequirements: [...input.extraRequirements],
    systemSitePackages: input.systemSitePackages
  })
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12)
}

export interface EnsureVenvOptions {
  python: string
  venvDir: string
  venvPython: string
  hash: string
  systemSitePackages: boolean
  requirementsFile: string
  pipArgs: readonly string[]
  /** Installed after the requirements: the wfastcgi spec or wheel path, or waitress. */
  extraRequirements: readonly string[]
}

async function readMarkerHash(venvDir: string): Promise<string | undefined> {
  try {
    const marker = JSON.parse(await fs.readFile(path.join(venvDir, VENV_MARKER), 'utf8')) as { hash?: unknown }
    return typeof marker.hash === 'string' ? marker.hash : undefined
  } catch {
    return undefined
  }
}

/** Whether the venv `hash` names is built and finished: ensureVenv reuses it as it is. */
export async function venvReady(venvDir: string, hash: string): Promise<boolean> {
  return (await readMarkerHash(venvDir)) === hash
}

const PIP_HINT =
  'If the server has no internet access, set pip-args to --no-index --find-links <folder of wheels>; otherwise check the requirement names and versions above.'

// POSIX errno text and the Windows message for ERROR_DISK_FULL: a full disk looks like any other tool failure.
const DISK_FULL = /No space left on device|ENOSPC|not enough space on the disk/i

export const DISK_FULL_HINT =
  'The disk is full: free space on the drive of deploy-root (old releases and venvs are under it) and run again.'

/** Says "disk full" when the output shows it, whatever the tool. */
export function diskFullHint(text: string): string | undefined {
  return DISK_FULL.test(text) ? DISK_FULL_HINT : undefined
}

/** Free bytes below this after a failed build mean the disk filled up (the tool's own message may not say so). */
const LOW_SPACE_BYTES = 64 * 1024 * 1024

async function lowSpaceHint(dir: string): Promise<string | undefined> {
  try {
    const stats = await fs.statfs(dir)
    return stats.bavail * stats.bsize < LOW_SPACE_BYTES ? DISK_FULL_HINT : undefined
  } catch {
    return undefined
  }
}

function pipFailure(what: string, result: ProcessResult): PhaseError {
  const tail = outputTail(result, 20)
  return new PhaseError('stage', `pip install ${what} failed (exit ${result.exitCode}):\n${tail}`, diskFullHint(tail) ?? PIP_HINT)
}

/**
 * Makes venvDir a finished venv for `hash`. Venvs are not relocatable (their scripts embed their own path), so a
 * venv is built where it will be used: any partial one there is removed first, and the marker is written last.
 */
export async function ensureVenv(runner: ProcessRunner, log: Log, opts: EnsureVenvOptions): Promise<{ reused: boolean }> {
  if ((await readMarkerHash(opts.venvDir)) === opts.hash) {
    log.info(`venv ${opts.venvDir} is up to date (hash ${opts.hash}); reusing it`)
    return { reused: true }
  }
  const env = toolEnv()

  log.info(`creating venv ${opts.venvDir} with ${opts.python}${opts.systemSitePackages ? ' (with system site-packages)' : ''}`)
  await fs.rm(opts.venvDir, { recursive: true, force: true })
  await fs.mkdir(path.dirname(opts.venvDir), { recursive: true })
  const venvArgs = ['-m', 'venv', ...(opts.systemSitePackages ? ['--system-site-packages'] : []), opts.venvDir]
  const created = await runner.run(opts.python, venvArgs, { env })
  if (created.exitCode !== 0) {
    const tail = outputTail(created)
    // ensurepip runs below venv with its output captured: a full disk may show only as "ensurepip ... exit status 1".
    const hint =
      diskFullHint(`${tail}\n${created.stderr}\n${created.stdout}`) ??
      (await lowSpaceHint(path.dirname(opts.venvDir))) ??
      (/ensurepip is not available|No module named venv/i.test(tail)
        ? 'This Python cannot create venvs: on Debian/Ubuntu install python3-venv; on Windows reinstall Python with pip.'
        : 'Check that the python input is a full Python 3 installation and that deploy-root is writable.')
    throw new PhaseError('stage', `python -m venv failed (exit ${created.exitCode}):\n${tail}`, hint)
  }

  const pip = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input']
  log.info(`installing ${opts.requirementsFile}`)
  const fromRequirements = await runner.run(opts.venvPython, [...pip, '-r', opts.requirementsFile, ...opts.pipArgs], { env })
  log.debug(fromRequirements.stdout)
  if (fromRequirements.exitCode !== 0) throw pipFailure(`-r ${opts.requirementsFile}`, fromRequirements)

  if (opts.extraRequirements.length > 0) {
    log.info(`installing ${opts.extraRequirements.join(' ')}`)
    const extra = await runner.run(opts.venvPython, [...pip, ...opts.extraRequirements, ...opts.pipArgs], { env })
    log.debug(extra.stdout)
    if (extra.exitCode !== 0) throw pipFailure(opts.extraRequirements.join(' '), extra)
  }

  const marker = { hash: opts.hash, python: opts.python, requirements: opts.requirementsFile, created: new Date().toISOString() }
  const tmp = path.join(opts.venvDir, `${VENV_MARKER}.${process.pid}.tmp`)
  await fs.writeFile(tmp, `${JSON.stringify(marker, null, 2)}\n`)
  await fs.rename(tmp, path.join(opts.venvDir, VENV_MARKER))
  return { reused: false }
}

/** Where the venv's Python finds wfastcgi.py: the FastCGI registration's `arguments` must name exactly this file. */
export async function findWfastcgi(runner: ProcessRunner, venvPython: string): Promise<string> {
  // -I keeps the current folder off sys.path, so only the venv's own wfastcgi can answer.
  const result = await runner.run(venvPython, ['-I', '-c', 'import wfastcgi; print(wfastcgi.__file__)'], { env: toolEnv() })
  const file = result.stdout.trim().split(/\r?\n/).pop() ?? ''
  if (result.exitCode !== 0 || !file) {
    throw new PhaseError(
      'stage',
      `wfastcgi is not importable in the venv (${venvPython}):\n${outputTail(result)}`,
      'Check the wfastcgi input (a pip spec such as wfastcgi==3.0.0, or the path of a wheel).'
    )
  }
  return file
}
