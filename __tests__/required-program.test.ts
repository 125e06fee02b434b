import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InputError } from '../src/errors.js'
import { requireProgram } from '../src/inputs/programs.js'

let dir: string
let savedPath: string | undefined

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'program-'))
  fs.writeFileSync(path.join(dir, 'fake-appcmd'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  fs.writeFileSync(path.join(dir, 'not-runnable'), 'data\n', { mode: 0o644 })
  savedPath = process.env.PATH
  process.env.PATH = `${dir}${path.delimiter}${savedPath ?? ''}`
})
afterAll(() => {
  process.env.PATH = savedPath
  fs.rmSync(dir, { recursive: true, force: true })
})

async function refusal(input: string, program: string): Promise<InputError> {
  const error = await requireProgram(input, program).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(InputError)
  return error as InputError
}

describe('requireProgram', () => {
  it('finds a program by name on PATH, as it will be started', async () => {
    await expect(requireProgram('appcmd', 'fake-appcmd')).resolves.toBeUndefined()
  })

  it('finds a program given by its full path', async () => {
    await expect(requireProgram('icacls', path.join(dir, 'fake-appcmd'))).resolves.toBeUndefined()
  })

  it('names the input and the fix when the program is missing', async () => {
    const error = await refusal('appcmd', path.join(dir, 'appcmd.exe'))
    expect(error.input).toBe('appcmd')
    expect(error.message).toContain(`${path.join(dir, 'appcmd.exe')} was not found on this machine`)
    expect(error.message).toContain('deploy mode needs IIS (with appcmd) on the runner, or use mode: stage or plan')
  })

  it('refuses a name that is on no PATH folder', async () => {
    expect((await refusal('icacls', 'no-such-icacls-here')).input).toBe('icacls')
  })

  // Not runnable on POSIX: no execute bit; on Windows: no PATHEXT extension. io.which refuses it either way.
  it('refuses a file that exists but cannot be run', async () => {
    expect((await refusal('appcmd', path.join(dir, 'not-runnable'))).input).toBe('appcmd')
    expect((await refusal('appcmd', 'not-runnable')).input).toBe('appcmd')
  })
})
