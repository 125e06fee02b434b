/** The FastCGI record's salted hash (src/iis/fastcgi-record.ts): made once per run for the same variables and salt. */
import { describe, expect, it, vi } from 'vitest'

const calls = vi.hoisted(() => ({ scrypt: 0 }))
vi.mock('node:crypto', async importOriginal => {
  const real = await importOriginal<typeof import('node:crypto')>()
  return {
    ...real,
    scrypt: ((...args: Parameters<typeof real.scrypt>) => {
      calls.scrypt++
      return real.scrypt(...args)
    }) as typeof real.scrypt
  }
})

const { matchesRecord, startRecordHash } = await import('../src/iis/fastcgi-record.js')
const { scryptSync } = await import('node:crypto')

const env = [
  { name: 'DJANGO_SETTINGS_MODULE', value: 'site.settings', secret: false },
  { name: 'API_TOKEN', value: 'token-value-1234', secret: true }
]
const wanted = {
  fullPath: 'D:\\deploy\\venvs\\abc\\Scripts\\python.exe',
  arguments: 'D:\\deploy\\venvs\\abc\\Lib\\site-packages\\wfastcgi.py',
  env
}
const salt = '00112233445566778899aabbccddeeff'
const canonical = JSON.stringify([
  ['api_token', 'token-value-1234'],
  ['django_settings_module', 'site.settings']
])
const record = {
  fullPath: wanted.fullPath.toUpperCase(),
  arguments: wanted.arguments,
  salt,
  hash: scryptSync(canonical, Buffer.from(salt, 'hex'), 32).toString('hex')
}

describe('the FastCGI record hash', () => {
  it('matches the recorded registration, and hashes its variables once however often it is asked', async () => {
    startRecordHash(record, env)
    expect(await matchesRecord(record, wanted)).toBe(true)
    expect(await matchesRecord(record, { ...wanted, env: [...env].reverse() })).toBe(true)
    expect(calls.scrypt).toBe(1)
  })

  it('does not match other variables, which are hashed on their own', async () => {
    const before = calls.scrypt
    expect(await matchesRecord(record, { ...wanted, env: [{ ...env[0], value: 'other.settings' }, env[1]] })).toBe(false)
    expect(calls.scrypt).toBe(before + 1)
    expect(await matchesRecord(undefined, wanted)).toBe(false)
  })
})
