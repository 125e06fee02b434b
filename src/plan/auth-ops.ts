import { locationPath } from '../iis/app-location.js'
import type { CurrentState } from '../iis/state.js'
import type { ObjectChange } from './diff.js'
import type { DesiredState, Operation } from './types.js'

// Windows Authentication at the app's location in applicationHost.config: the authentication sections are
// locked for web.config (overrideModeDefault="Deny"), so they are set with /commit:apphost, as Microsoft's own
// sample does (docs/windows-facts.md, ac-windows-auth). Whether they were set is known from the deploy-root
// record, like the handlers unlock: leaving windows mode removes exactly the attributes set here, so the
// server's defaults (anonymous on, Windows Authentication off) apply again and nothing stale is left.

const WINDOWS = '-section:system.webServer/security/authentication/windowsAuthentication'
const ANONYMOUS = '-section:system.webServer/security/authentication/anonymousAuthentication'
/** With Windows Authentication IIS reads static files as the signed-in user unless told to use the pool's identity. */
const SERVER_RUNTIME = '-section:system.webServer/serverRuntime'
const COMMIT = '/commit:apphost'

function op(argv: string[], why: string): Operation {
  return { tool: 'appcmd', argv, why, mutates: true }
}

/** The writes that bring the location's authentication to desired.auth; appends its object status. */
export function authOps(now: CurrentState, desired: DesiredState, objects: ObjectChange[]): Operation[] {
  const loc = locationPath(desired.app)
  const had = now.windowsAuth
  const set = (section: string, ...args: string[]): string[] => ['set', 'config', loc, section, ...args, COMMIT]
  if (desired.auth?.mode === 'windows') {
    const cred = desired.auth.useAppPoolCredentials
    if (had && had.useAppPoolCredentials === cred) {
      objects.push({ kind: 'windowsAuth', name: loc, status: 'unchanged' })
      return []
    }
    const credArg = cred ? ['/useAppPoolCredentials:true'] : had?.useAppPoolCredentials ? ['--useAppPoolCredentials'] : []
    objects.push({ kind: 'windowsAuth', name: loc, status: had ? 'changed' : 'created' })
    return [
      // Anonymous off first: between the two writes a request is refused, never let in unauthenticated.
      op(set(ANONYMOUS, '/enabled:false'), `${loc}: no anonymous requests (auth: windows)`),
      op(
        set(WINDOWS, '/enabled:true', ...credArg),
        cred
          ? `${loc}: Windows Authentication, Kerberos tickets decrypted with ${desired.pool.account?.userName ?? 'the pool account'}'s key`
          : `${loc}: Windows Authentication (Negotiate, NTLM)`
      ),
      op(
        set(SERVER_RUNTIME, '/authenticatedUserOverride:UseWorkerProcessUser'),
        `${loc}: files are read as the pool identity, which the deploy grants access, not as each signed-in user`
      )
    ]
  }
  if (!had) return []
  objects.push({ kind: 'windowsAuth', name: loc, status: 'removed' })
  return [
    op(
      set(WINDOWS, '--enabled', ...(had.useAppPoolCredentials ? ['--useAppPoolCredentials'] : [])),
      `${loc}: Windows Authentication no longer set`
    ),
    op(set(SERVER_RUNTIME, '--authenticatedUserOverride'), `${loc}: files read as IIS's default user again`),
    op(set(ANONYMOUS, '--enabled'), `${loc}: anonymous requests as the server allows them (auth: ${desired.auth?.mode ?? 'anonymous'})`)
  ]
}
