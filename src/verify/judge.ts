/** The verdict on one response of each kind of check: pure, so every answer can be tested without a server. */
import type { HttpResponse } from './http.js'
import { contentTypeMatches } from './static.js'
import type { SsoHandlerTarget, VerifyPlan } from './checks.js'

/** The verdict on one response. `final` stops polling: waiting cannot fix it. */
export interface Judgement {
  ok: boolean
  detail: string
  final?: boolean
}

const LOGIN = /log-?in|sign-?in|sso|saml|oauth/i
const BODY_START_LINES = 15
const BODY_START_CHARS = 1500

export function bodyStart(body: string): string {
  return body.split(/\r?\n/).slice(0, BODY_START_LINES).join('\n').slice(0, BODY_START_CHARS)
}

function failed(response: HttpResponse): Judgement | undefined {
  if (response.error === undefined) return undefined
  return { ok: false, detail: response.error, final: response.errorKind === 'tls' }
}

function loginRedirect(response: HttpResponse): string | undefined {
  if (response.location && LOGIN.test(response.location)) return response.location
  if (response.redirects.length > 0 && LOGIN.test(new URL(response.url).pathname)) return response.url
  return undefined
}

function statusDetail(response: HttpResponse, expected: number): string {
  const login = loginRedirect(response)
  if (login) {
    return `redirected to a login page (${login}), expected HTTP ${expected}: verify a URL that needs no login, or set verify-status to ${response.status}`
  }
  const where = response.location ? ` to ${response.location}` : ''
  return `HTTP ${response.status}${where}, expected ${expected}`
}

export function judgeStatus(response: HttpResponse, expected: number): Judgement {
  const error = failed(response)
  if (error) return error
  if (response.status !== expected) return { ok: false, detail: statusDetail(response, expected) }
  // A followed redirect that lands on a login page answers 200, but not with the app's page.
  const login = response.redirects.length > 0 ? loginRedirect(response) : undefined
  if (login && expected < 300) return { ok: false, detail: `redirected to a login page (${login}): verify a URL that needs no login` }
  return { ok: true, detail: `HTTP ${response.status}` }
}

export function judgeMain(response: HttpResponse, expected: Pick<VerifyPlan, 'status' | 'body'>): Judgement {
  const error = failed(response)
  if (error) return error
  if (response.status !== expected.status) return { ok: false, detail: statusDetail(response, expected.status) }
  const body = expected.body
  if (body && 'text' in body && !response.body.includes(body.text)) {
    return { ok: false, detail: `HTTP ${response.status}, but the body does not contain ${JSON.stringify(body.text)} (verify-body)` }
  }
  if (body && 'regex' in body && !new RegExp(body.regex).test(response.body)) {
    return { ok: false, detail: `HTTP ${response.status}, but the body does not match /${body.regex}/ (verify-body)` }
  }
  if (!body) return judgeStatus(response, expected.status)
  return { ok: true, detail: `HTTP ${response.status}, body matches` }
}

export function judgeStatic(response: HttpResponse, expectedContentType: string): Judgement {
  const error = failed(response)
  if (error) return error
  const contentType = response.headers['content-type']
  if (response.status === 404) {
    return { ok: false, detail: 'HTTP 404: the collected static file is not served (static virtual directory or its web.config)' }
  }
  if (response.status !== 200) return { ok: false, detail: statusDetail(response, 200) }
  if (!contentTypeMatches(contentType, expectedContentType)) {
    return {
      ok: false,
      detail: `served as ${contentType ?? 'no content type'}, expected ${expectedContentType}: the static handler does not serve this path`
    }
  }
  return { ok: true, detail: `HTTP 200, ${contentType}` }
}

const SSO_HANDLER = '/Shibboleth.sso/'

export function judgeProtected(response: HttpResponse): Judgement {
  const error = failed(response)
  if (error) return error
  const status = response.status ?? 0
  if (status >= 300 && status < 400) {
    if (response.location?.includes(SSO_HANDLER)) return { ok: true, detail: `HTTP ${status} to ${response.location}` }
    return { ok: false, detail: `HTTP ${status} to ${response.location ?? '(no Location)'}, not to the SP's ${SSO_HANDLER} handler` }
  }
  if (status === 200) {
    return {
      ok: false,
      detail: 'HTTP 200 without a login: the path is not protected by the Shibboleth SP (RequestMap Host, ISAPI Site id)'
    }
  }
  return { ok: false, detail: `HTTP ${status}, expected a redirect to ${SSO_HANDLER}` }
}

/**
 * The Session handler's own pages (docs/windows-facts.md, sp-session-handler): HTML titled "Session Summary"
 * (with "A valid session was not found." when the caller has none), or JSON with contentType="application/json".
 */
const SESSION_PAGE = /Session Summary|A valid session was not found/
/** SecuredHandler's refusal when an acl on the handler excludes the caller: the handler ran, so the site is mapped. */
const HANDLER_ACL_REFUSAL = /^Access Denied\s*$/

export function judgeSsoHandler(response: HttpResponse, target: Pick<SsoHandlerTarget, 'siteId' | 'host'>): Judgement {
  const error = failed(response)
  if (error) return error
  const status = response.status ?? 0
  const json = /application\/json/i.test(response.headers['content-type'] ?? '')
  if (status === 200 && (SESSION_PAGE.test(response.body) || json)) {
    return { ok: true, detail: `HTTP 200 from the SP's Session handler: the IIS module maps site id ${target.siteId}` }
  }
  if (status === 403 && HANDLER_ACL_REFUSAL.test(response.body.trim())) {
    return {
      ok: true,
      detail: `HTTP 403 "Access Denied" from the SP's Session handler (its acl refuses this address): the IIS module maps site id ${target.siteId}`
    }
  }
  const site = `<ISAPI><Site id="${target.siteId}" name="${target.host}">`
  if (status === 404) {
    return {
      ok: false,
      detail:
        `HTTP 404 from IIS, not the SP's Session handler: the Shibboleth IIS module serving the site root does not map IIS site id ${target.siteId}; ` +
        `shibboleth2.xml needs ${site} with the site's IIS id, and the site's app pools a recycle after <ISAPI> changed`
    }
  }
  return { ok: false, detail: `HTTP ${status}, not the SP's Session handler page: expected it to answer for ${site}` }
}

/** What the pre-switch checks accept beyond the usual verdicts (src/verify/pre-switch.ts). */
export interface PreSwitchJudging {
  /** The live URL's origin: a redirect there (Django's HTTPS redirect) shows the app answered; it is not followed. */
  liveOrigin: string
  /** With SSO no session can be had on the temporary site: any answer below 400 shows the app ran. */
  anyAppAnswer: boolean
}

/** The verdict on a page of the temporary site: an IIS error (401.3, 500.19, a FastCGI failure) always fails. */
export function judgePreSwitch(response: HttpResponse, usual: Judgement, how: PreSwitchJudging): Judgement {
  if (usual.ok || response.status === undefined || response.error !== undefined) return usual
  const status = response.status
  if (status >= 300 && status < 400 && response.location) {
    const to = new URL(response.location, response.url)
    if (to.origin === how.liveOrigin)
      return {
        ok: true,
        detail: `HTTP ${status} to ${response.location}: the app answered through IIS (the redirect is checked after the switch)`
      }
  }
  if (how.anyAppAnswer && status < 400)
    return { ok: true, detail: `HTTP ${status}: the app answered through IIS (the SSO checks run after the switch)` }
  return usual
}
