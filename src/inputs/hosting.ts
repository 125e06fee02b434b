import { InputError } from '../errors.js'
import { bool, splitArgs } from './primitives.js'
import type { Hosting, InputValue, ShibbolethConfig } from './types.js'

/** shibboleth: true needs REMOTE_USER from the SP module, which only FastCGI hands to the app. */
export function checkShibbolethHosting(shibEnabled: boolean, hosting: Hosting): void {
  if (shibEnabled && hosting === 'httpplatform') {
    throw new InputError(
      'hosting',
      'httpplatform cannot be used with shibboleth: REMOTE_USER does not cross HttpPlatformHandler, and identity passed in headers can be spoofed; use hosting fastcgi'
    )
  }
}

/** The shibboleth-* inputs and remote-user; the host follows verify-url when shibboleth-host is empty. */
export function readShibboleth(get: InputValue, enabled: boolean, verifyUrl: string): ShibbolethConfig {
  if (enabled && !get('shibboleth-host') && !get('verify-url')) {
    throw new InputError(
      'shibboleth-host',
      'is required with shibboleth: true (or set verify-url): the SP maps requests by host name, and a guess would protect the wrong one'
    )
  }
  const remoteUser = get('remote-user').split(/\s+/).filter(Boolean)
  for (const id of remoteUser) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(id))
      throw new InputError('remote-user', `'${id}' is not an attribute id; list ids separated by spaces, e.g. eppn subject-id`)
  }
  return {
    enabled,
    configPath: get('shibboleth-config'),
    host: get('shibboleth-host') || new URL(verifyUrl).hostname,
    hostFromVerifyUrl: !get('shibboleth-host'),
    remoteUser,
    // Empty is action.yml's command, as for every input: the check cannot be switched off by accident.
    check: splitArgs(get('shibboleth-check')),
    service: get('shibboleth-service'),
    requireRemoteUser: bool('require-remote-user', get('require-remote-user'))
  }
}

/** httpplatform-command: a server that runs on Windows and listens where HttpPlatformHandler proxies. */
export function readHttpPlatformCommand(get: InputValue, hosting: Hosting): string {
  const command = get('httpplatform-command')
  if (hosting === 'httpplatform' && /(^|[\s\\/])gunicorn(\.exe)?(\s|$)/i.test(command)) {
    throw new InputError('httpplatform-command', 'gunicorn does not run on Windows; leave the input empty for waitress, or use uvicorn')
  }
  if (command && !command.includes('%HTTP_PLATFORM_PORT%')) {
    throw new InputError(
      'httpplatform-command',
      'must contain %HTTP_PLATFORM_PORT%, the port HttpPlatformHandler proxies to; put it where your server takes its port'
    )
  }
  return command
}
