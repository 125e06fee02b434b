import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { getInputs } from '../src/config.js'
import { InputError } from '../src/errors.js'
import { defaultServerLockDir } from '../src/iis/lock.js'
import { EXAMPLE_APP } from './support/run-action.js'

const config = (over: Record<string, string> = {}) => {
  const values: Record<string, string> = {
    mode: 'plan',
    'app-dir': EXAMPLE_APP,
    'deploy-root': 'C:\\inetpub\\hello',
    'app-path': '/app',
    ...over
  }
  return getInputs(name => values[name] ?? '', {}, EXAMPLE_APP)
}

describe('lock-dir, the folder of the server-wide lock', () => {
  it("defaults to %ProgramData%\\django-iis-deploy on Windows, and to the temp folder's elsewhere", () => {
    expect(defaultServerLockDir({ ProgramData: 'D:\\ProgramData' }, 'win32')).toBe('D:\\ProgramData\\django-iis-deploy')
    expect(defaultServerLockDir({}, 'win32')).toBe('C:\\ProgramData\\django-iis-deploy')
    expect(defaultServerLockDir({}, 'linux')).toBe(path.join(os.tmpdir(), 'django-iis-deploy'))
    expect(config().lockDir).toBe(defaultServerLockDir({}))
  })

  it('takes an absolute folder, POSIX or Windows', () => {
    expect(config({ 'lock-dir': '/srv/locks' }).lockDir).toBe('/srv/locks')
    expect(config({ 'lock-dir': 'D:\\locks' }).lockDir).toBe('D:\\locks')
  })

  it('refuses a relative folder: runs of other checkouts would not meet there', () => {
    expect(() => config({ 'lock-dir': 'locks' })).toThrow(InputError)
    expect(() => config({ 'lock-dir': 'locks' })).toThrow(/^Input 'lock-dir': 'locks' must be an absolute folder/)
  })
})
