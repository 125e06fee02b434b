import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execRunner } from '../../src/process.js'

export const SYSTEM_PYTHON = '/usr/bin/python3'
export const WFASTCGI_WHEEL = 'wfastcgi-3.0.0-py3-none-any.whl'

/**
 * wfastcgi (Windows only, and not downloadable here) replaced by a stand-in module with the same name and version:
 * pip installs it like the real wheel, so the code that finds wfastcgi.py in a venv is exercised for real.
 */
const STAND_IN = `# TEST STAND-IN: this is NOT Microsoft's wfastcgi. It only occupies the name and version (3.0.0) so tests can
# install a wheel called wfastcgi offline and find wfastcgi.py in a venv. It cannot serve FastCGI.
__version__ = '3.0.0'


def main():
    raise SystemExit('test stand-in for wfastcgi: it does not speak FastCGI')
`

// A wheel is a zip with the module, METADATA, WHEEL and a RECORD of sha256 digests (urlsafe base64, unpadded).
const BUILD_WHEEL = `
import base64, hashlib, sys, zipfile
target, source = sys.argv[1], sys.stdin.read()
info = 'wfastcgi-3.0.0.dist-info'
files = {
    'wfastcgi.py': source.encode(),
    info + '/METADATA': b'Metadata-Version: 2.1\\nName: wfastcgi\\nVersion: 3.0.0\\nSummary: Test stand-in, not the real wfastcgi\\n',
    info + '/WHEEL': b'Wheel-Version: 1.0\\nGenerator: django-iis-deploy-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
}
record = []
for name, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    record.append('%s,sha256=%s,%d' % (name, digest, len(data)))
record.append(info + '/RECORD,,')
files[info + '/RECORD'] = ('\\n'.join(record) + '\\n').encode()
with zipfile.ZipFile(target, 'w', zipfile.ZIP_DEFLATED) as wheel:
    for name, data in files.items():
        wheel.writestr(name, data)
`

/** Builds a folder holding the wfastcgi stand-in wheel, for pip --no-index --find-links. */
export async function buildWheelhouse(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelhouse-'))): Promise<string> {
  fs.mkdirSync(dir, { recursive: true })
  const result = await execRunner.run(SYSTEM_PYTHON, ['-I', '-c', BUILD_WHEEL, path.join(dir, WFASTCGI_WHEEL)], { input: STAND_IN })
  if (result.exitCode !== 0) throw new Error(`building the wfastcgi test wheel failed: ${result.stderr}`)
  return dir
}
