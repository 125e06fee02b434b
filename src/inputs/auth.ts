import { InputError } from '../errors.js'

/** Who may use the app: anyone, users IIS signs in with Windows Authentication, or users the Shibboleth SP signs in. */
export type AuthMode = 'anonymous' | 'windows' | 'shibboleth'

const MODES: readonly AuthMode[] = ['anonymous', 'windows', 'shibboleth']

/**
 * Reads `auth`, keeping `shibboleth: true` working as `auth: shibboleth`. httpplatform with windows is refused:
 * HttpPlatformHandler does not pass REMOTE_USER, only (with forwardWindowsAuthToken) a token handle in the
 * X-IIS-WindowsAuthToken header (docs/windows-facts.md, hp-auth-token), which Django cannot turn into a user name.
 */
export function parseAuth(raw: string, shibboleth: boolean, hosting: 'fastcgi' | 'httpplatform'): AuthMode {
  const value = raw.trim().toLowerCase()
  if (value !== '' && !MODES.includes(value as AuthMode))
    throw new InputError('auth', `unknown value '${raw.trim()}'; use one of: ${MODES.join(', ')}`)
  if (shibboleth && value !== '' && value !== 'shibboleth')
    throw new InputError(
      'auth',
      `is '${value}' but shibboleth is true; use auth: shibboleth alone (shibboleth: true is its older spelling)`
    )
  const mode: AuthMode = value === '' ? (shibboleth ? 'shibboleth' : 'anonymous') : (value as AuthMode)
  if (mode === 'windows' && hosting === 'httpplatform') {
    throw new InputError(
      'auth',
      'windows cannot be used with hosting httpplatform: HttpPlatformHandler passes no REMOTE_USER, only a Windows token handle in a header that Django cannot read; use hosting fastcgi'
    )
  }
  return mode
}

/** Printed by the preflight with auth: windows: what Django's RemoteUserBackend will see. */
export const WINDOWS_REMOTE_USER_NOTE =
  "Windows Authentication: IIS passes the user as REMOTE_USER in the form DOMAIN\\user, and RemoteUserBackend makes a Django user of that exact name; to drop the domain, subclass RemoteUserBackend and override clean_username (e.g. return username.rpartition('\\\\')[2]); see docs/identity-and-auth.md"
