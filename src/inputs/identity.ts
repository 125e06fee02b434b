import { InputError } from '../errors.js'
import { MIN_SECRET_LENGTH } from '../log.js'

/** The identities IIS runs a pool as without credentials of ours (processModel.md, identityType). */
export const BUILTIN_IDENTITIES = ['ApplicationPoolIdentity', 'NetworkService', 'LocalService', 'LocalSystem'] as const
export type BuiltinIdentity = (typeof BUILTIN_IDENTITIES)[number]

/** IIS's identityType: a built-in one, or SpecificUser with processModel.userName (and password). */
export type PoolIdentity = BuiltinIdentity | 'SpecificUser'

/**
 * A Windows account the pool runs as (identityType SpecificUser). A group managed service account (name ending
 * in `$`) has no password: Windows fetches it from the domain, so processModel.password stays empty.
 */
export interface PoolAccount {
  userName: string
  kind: 'account' | 'gmsa'
  /** Empty for a gMSA. A secret: masked wherever printed, never written under deploy-root. */
  password: string
}

export interface PoolIdentityInput {
  identity: PoolIdentity
  account?: PoolAccount
}

// sAMAccountName refuses " / \ [ ] : ; | = , + * ? < > @ (Microsoft Learn, "Naming conventions in Active
// Directory"); docs/identity-and-auth.md. A NetBIOS domain name refuses most of the same, and . stands for this machine.
const ACCOUNT_CHARS = /^[^"/\\[\]:;|=,+*?<>@\s][^"/\\[\]:;|=,+*?<>@]{0,19}$/
const DOMAIN = /^(\.|[A-Za-z0-9][A-Za-z0-9_.-]{0,14})$/

const HINT =
  'use ApplicationPoolIdentity, NetworkService, LocalService, LocalSystem, DOMAIN\\account (password in pool-identity-password), DOMAIN\\gmsa$ (no password) or .\\account for a local account'

/**
 * Reads pool-identity (its default already filled in from action.yml) and pool-identity-password together: one
 * clear error for any bad combination.
 */
export function parsePoolIdentity(raw: string, password: string): PoolIdentityInput {
  const value = raw.trim()
  const builtin = BUILTIN_IDENTITIES.find(b => b.toLowerCase() === value.toLowerCase())
  if (builtin) {
    if (password) throw new InputError('pool-identity-password', `is set, but ${builtin} takes no password; remove it`)
    return { identity: builtin }
  }
  const slash = value.indexOf('\\')
  if (slash < 0) {
    const why = value.includes('@') ? `'${value}' is a user principal name` : `'${value}' is not a built-in identity or an account`
    throw new InputError('pool-identity', `${why}; ${HINT}`)
  }
  const domain = value.slice(0, slash)
  const name = value.slice(slash + 1)
  if (!DOMAIN.test(domain)) throw new InputError('pool-identity', `'${domain}' in '${value}' is not a domain name; ${HINT}`)
  const gmsa = name.endsWith('$')
  const bare = gmsa ? name.slice(0, -1) : name
  if (!ACCOUNT_CHARS.test(bare) || /^\.+$/.test(bare) || bare.endsWith(' ')) {
    throw new InputError(
      'pool-identity',
      `'${name}' in '${value}' is not an account name (at most 20 characters, none of " / \\ [ ] : ; | = , + * ? < > @); ${HINT}`
    )
  }
  if (gmsa) {
    if (domain === '.')
      throw new InputError('pool-identity', `'${value}': a group managed service account belongs to a domain; name it DOMAIN\\${name}`)
    if (password)
      throw new InputError(
        'pool-identity-password',
        `is set, but ${value} is a group managed service account, which has no password; remove it`
      )
    return { identity: 'SpecificUser', account: { userName: value, kind: 'gmsa', password: '' } }
  }
  if (!password)
    throw new InputError(
      'pool-identity-password',
      `is empty; ${value} needs its password (from a secret), or use a gMSA (${domain}\\${name}$)`
    )
  // A shorter value could not be masked in the log without masking every such substring (src/log.ts).
  if (password.length < MIN_SECRET_LENGTH)
    throw new InputError(
      'pool-identity-password',
      `is shorter than ${MIN_SECRET_LENGTH} characters, too short to mask; give the account's real password`
    )
  if (/[\r\n]/.test(password))
    throw new InputError('pool-identity-password', 'holds a line break, which appcmd cannot pass; change the password')
  return { identity: 'SpecificUser', account: { userName: value, kind: 'account', password } }
}

/** The principal that file grants name: the account, or the pool's virtual account for built-in identities. */
export function poolPrincipalOf(pool: string, account: PoolAccount | undefined): string {
  return account ? account.userName : `IIS AppPool\\${pool}`
}
