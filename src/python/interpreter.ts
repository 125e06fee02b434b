import { PhaseError, asError } from '../errors.js'
import type { ProcessRunner } from '../process.js'
import { outputTail } from './output.js'

export interface Interpreter {
  /** sys.executable: the real file behind a launcher or shim. */
  executable: string
  /** e.g. '3.11.2' */
  version: string
  /** e.g. '3.11' */
  majorMinor: string
  /** sys.base_prefix: the installation the pool identity must be able to read. */
  basePrefix: string
  /**
   * sys.implementation.cache_tag, e.g. 'cpython-311': the part of a `__pycache__` file name that says which
   * interpreter compiled it. null when the interpreter writes no cache files.
   */
  cacheTag: string | null
}

// -I: ignore PYTHON* variables and the current folder, so the probe sees the interpreter itself.
const PROBE = [
  'import json, platform, sys',
  'print(json.dumps({"executable": sys.executable, "version": platform.python_version(),',
  ' "majorMinor": "%d.%d" % sys.version_info[:2], "basePrefix": sys.base_prefix,',
  ' "cacheTag": sys.implementation.cache_tag}))'
].join('\n')

/** The name the stage flow uses. */
export type InterpreterInfo = Interpreter

/** Asks the interpreter that will create the venv who it is. */
export async function probeInterpreter(runner: ProcessRunner, python: string): Promise<Interpreter> {
  let result
  try {
    result = await runner.run(python, ['-I', '-c', PROBE])
  } catch (thrown) {
    // @actions/exec throws (instead of exiting non-zero) when the file cannot be found.
    throw new PhaseError(
      'stage',
      `python '${python}' not found; set the python input`,
      'Give the full path of python.exe (or python3) that should create the venv.',
      {
        cause: asError(thrown)
      }
    )
  }
  if (result.exitCode !== 0) {
    throw new PhaseError(
      'stage',
      `python '${python}' failed to start (exit ${result.exitCode}): ${outputTail(result)}`,
      'Check the python input points at a working Python 3 interpreter.'
    )
  }
  const line = result.stdout.trim().split(/\r?\n/).pop() ?? ''
  try {
    const parsed = JSON.parse(line) as Interpreter
    if (!parsed.executable || !/^\d+\.\d+/.test(parsed.version)) throw new Error('incomplete answer')
    return { ...parsed, cacheTag: typeof parsed.cacheTag === 'string' && parsed.cacheTag ? parsed.cacheTag : null }
  } catch {
    throw new PhaseError(
      'stage',
      `python '${python}' did not answer like Python 3: ${outputTail(result)}`,
      'Check the python input points at a Python 3 interpreter.'
    )
  }
}
