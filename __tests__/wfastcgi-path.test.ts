/** A new venv proves that wfastcgi.py is where the FastCGI registration will name it. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { layoutFor } from '../src/layout.js'
import type { ProcessRunner } from '../src/process.js'
import { checkWfastcgiPath } from '../src/stage.js'

const roots: string[] = []
afterEach(() => roots.splice(0).forEach(r => fs.rmSync(r, { recursive: true, force: true })))

/** A venv Python that says wfastcgi lives at `file`. */
const answering = (file: string): ProcessRunner => ({
  run: async () => ({ exitCode: 0, stdout: `${file}\n`, stderr: '', durationMs: 1 })
})

describe('checkWfastcgiPath', () => {
  it('accepts the venv site-packages the registration names', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wfastcgi-path-'))
    roots.push(root)
    const layout = layoutFor(root)
    const expected = path.join(layout.venvSitePackages('h1', '3.11'), 'wfastcgi.py')
    await expect(checkWfastcgiPath(answering(expected), layout, 'h1', '3.11')).resolves.toBeUndefined()
  })

  it('stops the stage when wfastcgi was imported from elsewhere and is missing from the venv', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wfastcgi-path-'))
    roots.push(root)
    const layout = layoutFor(root)
    const elsewhere = '/home/runner/.local/lib/python3.11/site-packages/wfastcgi.py'
    await expect(checkWfastcgiPath(answering(elsewhere), layout, 'h1', '3.11')).rejects.toThrow(
      /the venv's wfastcgi\.py is \/home\/runner\/\.local\/.*but the FastCGI registration would name .*venvs.*h1.*wfastcgi\.py/
    )
  })
})
