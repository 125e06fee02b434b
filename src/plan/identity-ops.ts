import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import type { PoolPasswordRecord } from '../iis/location-record.js'
import type { CurrentState } from '../iis/state.js'
import { plainValue } from '../iis/appcmd.js'
import type { DesiredState } from './types.js'

// The pool's identity as appcmd sets it: processModel.identityType, and for SpecificUser userName and password
// (processModel.md). IIS stores the password encrypted and a read may show it decrypted, so whether it is the
// same as last time is decided from a salted hash in the deploy-root record, never from the read
// (docs/identity-and-auth.md, "Same password").

type Pool = DesiredState['pool']

export function hashPassword(password: string, salt: string): string {
  return scryptSync(password, Buffer.from(salt, 'hex'), 32).toString('hex')
}

/** Whether the record says this tool last gave `pool` this account and this password. */
export function samePoolPassword(record: PoolPasswordRecord | undefined, pool: Pool): boolean {
  const account = pool.account
  if (!record || !account || account.kind !== 'account') return false
  if (record.pool.toLowerCase() !== pool.name.toLowerCase() || record.userName.toLowerCase() !== account.userName.toLowerCase())
    return false
  const want = Buffer.from(record.hash, 'hex')
  const got = Buffer.from(hashPassword(account.password, record.salt), 'hex')
  return want.length === got.length && timingSafeEqual(want, got)
}

/** The record to keep after an apply that left IIS at `pool`: the existing one when it still matches (no rewrite). */
export function poolPasswordRecord(pool: Pool, existing: PoolPasswordRecord | undefined): PoolPasswordRecord | undefined {
  const account = pool.account
  if (!account || account.kind !== 'account') return undefined
  if (samePoolPassword(existing, pool)) return existing
  const salt = randomBytes(16).toString('hex')
  return { pool: pool.name, userName: account.userName, salt, hash: hashPassword(account.password, salt) }
}

/** appcmd options that set the whole identity, with the values to mask. */
export function identityArgs(pool: Pool, clearAccount = false): { args: string[]; secrets: string[] } {
  const type = [`/processModel.identityType:${pool.identity}`]
  const account = pool.account
  if (!account) return { args: clearAccount ? [...type, '/processModel.userName:', '/processModel.password:'] : type, secrets: [] }
  const password = plainValue('processModel.password', account.password)
  return {
    args: [
      ...type,
      `/processModel.userName:${plainValue('processModel.userName', account.userName)}`,
      `/processModel.password:${password}`
    ],
    secrets: account.password ? [account.password] : []
  }
}

/** What must change in an existing pool's identity, said without the password; undefined when nothing. */
export function identityChange(now: CurrentState, pool: Pool): { args: string[]; secrets: string[]; why: string } | undefined {
  const account = pool.account
  const nowUser = now.pool.userName ?? ''
  const nowType = now.pool.identity ?? 'ApplicationPoolIdentity'
  const shown = (type: string, user: string): string => (type.toLowerCase() === 'specificuser' && user ? user : type)
  const from = shown(nowType, nowUser)
  if (!account) {
    if (nowType.toLowerCase() === pool.identity.toLowerCase() && nowUser === '') return undefined
    return { ...identityArgs(pool, nowUser !== ''), why: `identity ${from} → ${pool.identity}` }
  }
  const sameAccount = nowType.toLowerCase() === 'specificuser' && nowUser.toLowerCase() === account.userName.toLowerCase()
  if (sameAccount && account.kind === 'gmsa') return undefined
  if (sameAccount && samePoolPassword(now.poolPassword, pool)) return undefined
  const why = sameAccount
    ? now.poolPassword
      ? `identity ${account.userName}: the password differs from the one set last`
      : `identity ${account.userName}: the password was not set by this tool, so it is set again`
    : `identity ${from} → ${account.userName}`
  return { ...identityArgs(pool), why }
}
