import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execRunner } from '../../src/process.js'

export const SYSTEM_PYTHON = '/usr/bin/python3'
export const WFASTCGI_WHEEL = 'wfastcgi-3.0.0-py3-none-any.whl'
const STAND_IN_BUILDER = path.join(import.meta.dirname, '..', '..', 'scripts', 'wfastcgi-standin.py')

/** Builds a folder holding the wfastcgi stand-in wheel, for pip --no-index --find-links. */
export async function buildWheelhouse(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelhouse-'))): Promise<string> {
  fs.mkdirSync(dir, { recursive: true })
  // The same builder serves the offline demo: a labelled stand-in, since wfastcgi cannot be downloaded here.
  const result = await execRunner.run(SYSTEM_PYTHON, ['-I', STAND_IN_BUILDER, dir])
  if (result.exitCode !== 0) throw new Error(`building the wfastcgi test wheel failed: ${result.stderr}`)
  return dir
}
