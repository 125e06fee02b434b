/**
 * The checks of the release on the temporary site before the switch (docs/pre-switch.md): verify's own checks,
 * moved to the site's loopback origin with the live Host header, less what only the live site can answer.
 */
import type { VerifyPlan } from './checks.js'

export interface PreSwitchVerify {
  plan: VerifyPlan
  /** What is not checked before the switch, and why: logged, and checked after the switch as always. */
  skipped: string[]
}

/** `url` on `origin` when it is on the live origin; undefined for a URL of another origin (left for after the switch). */
function moved(url: string, liveOrigin: string, origin: string): string | undefined {
  const u = new URL(url)
  if (u.origin !== liveOrigin) return undefined
  const at = new URL(`${u.pathname}${u.search}`, origin)
  // verify-url's credentials (Basic authentication) go along: the app asks for them on the temporary site too.
  at.username = u.username
  at.password = u.password
  return at.href
}

/**
 * `live` is the plan verify runs after the switch; `origin` the temporary site's (http://127.0.0.1:port).
 * The Host header stays the live one, so Django's ALLOWED_HOSTS sees the name it knows; redirects are not
 * followed, since they lead to the live site (src/verify/judge.ts, judgePreSwitch).
 */
export function preSwitchVerifyPlan(live: VerifyPlan, origin: string): PreSwitchVerify {
  const liveUrl = new URL(live.url)
  const skipped: string[] = []
  const sso = Boolean(live.protectedPath || live.ssoHandler)
  const extraUrls: string[] = []
  for (const url of live.extraUrls) {
    const at = moved(url, liveUrl.origin, origin)
    if (at) extraUrls.push(at)
    else skipped.push(`${url}: another origin than verify-url`)
  }
  const staticUrl = live.staticFile ? moved(live.staticFile.url, liveUrl.origin, origin) : undefined
  if (live.staticFile && !staticUrl) skipped.push(`${live.staticFile.url}: another origin than verify-url`)
  if (sso)
    skipped.push(
      'the SSO checks (protected path, Session handler): the SP maps requests by host and port (RequestMap) and the IIS module by site id, and neither names the temporary site'
    )
  const plan: VerifyPlan = {
    ...live,
    url: moved(live.url, liveUrl.origin, origin) ?? live.url,
    extraUrls,
    hostHeader: live.hostHeader || liveUrl.host,
    followRedirects: false,
    ...(staticUrl && live.staticFile ? { staticFile: { ...live.staticFile, url: staticUrl } } : {}),
    preSwitch: { liveOrigin: liveUrl.origin, anyAppAnswer: sso }
  }
  // Only the live site can answer these: the SP knows its host and port, the IIS module its site id.
  delete plan.protectedPath
  delete plan.ssoHandler
  if (!staticUrl) delete plan.staticFile
  return { plan, skipped }
}
