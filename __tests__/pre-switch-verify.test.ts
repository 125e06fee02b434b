/** The checks before the switch (src/verify/pre-switch.ts, judgePreSwitch): pure, no server. */
import { describe, expect, it } from 'vitest'
import type { VerifyPlan } from '../src/verify/checks.js'
import type { HttpResponse } from '../src/verify/http.js'
import { judgeMain, judgePreSwitch } from '../src/verify/judge.js'
import { preSwitchVerifyPlan } from '../src/verify/pre-switch.js'

const LIVE: VerifyPlan = {
  url: 'https://www.example.org/app/',
  urlFromBinding: false,
  extraUrls: ['https://www.example.org/app/health?x=1', 'https://cdn.example.net/app.js'],
  status: 200,
  hostHeader: '',
  requestTimeoutMs: 5000,
  totalTimeoutMs: 30000,
  intervalMs: 500,
  insecure: false,
  followRedirects: true,
  caBundle: '',
  staticFile: { url: 'https://www.example.org/app/static/site.css', expectedContentType: 'text/css' }
}
const ORIGIN = 'http://127.0.0.1:48123'

const response = (status: number, extra: Partial<HttpResponse> = {}): HttpResponse => ({
  url: `${ORIGIN}/app/`,
  status,
  headers: {},
  body: '',
  redirects: [],
  ms: 1,
  ...extra
})

describe('verify before the switch', () => {
  it('moves the checks of the live origin to the temporary site, keeps the live Host, and follows no redirect', () => {
    const { plan, skipped } = preSwitchVerifyPlan(LIVE, ORIGIN)
    expect(plan.url).toBe(`${ORIGIN}/app/`)
    expect(plan.extraUrls).toEqual([`${ORIGIN}/app/health?x=1`])
    expect(plan.staticFile?.url).toBe(`${ORIGIN}/app/static/site.css`)
    expect(plan.hostHeader).toBe('www.example.org')
    expect(plan.followRedirects).toBe(false)
    expect(skipped).toEqual(['https://cdn.example.net/app.js: another origin than verify-url'])
    expect(preSwitchVerifyPlan({ ...LIVE, hostHeader: 'intranet:8443' }, ORIGIN).plan.hostHeader).toBe('intranet:8443')
    const withLogin = preSwitchVerifyPlan({ ...LIVE, url: 'https://bot:pw@www.example.org/app/' }, ORIGIN).plan
    expect(withLogin.url).toBe(`http://bot:pw@127.0.0.1:48123/app/`)
  })

  it('with SSO leaves the protected path and the Session handler for after the switch, and says so', () => {
    const sso: VerifyPlan = {
      ...LIVE,
      protectedPath: { url: LIVE.url },
      ssoHandler: { url: 'https://www.example.org/Shibboleth.sso/Session', siteId: 1, host: 'www.example.org' }
    }
    const { plan, skipped } = preSwitchVerifyPlan(sso, ORIGIN)
    expect(plan.protectedPath).toBeUndefined()
    expect(plan.ssoHandler).toBeUndefined()
    expect(plan.preSwitch).toEqual({ liveOrigin: 'https://www.example.org', anyAppAnswer: true })
    expect(skipped.some(s => s.startsWith('the SSO checks'))).toBe(true)
  })

  it("counts Django's redirect to the live site as the app answering, but never an IIS error", () => {
    const how = { liveOrigin: 'https://www.example.org', anyAppAnswer: false }
    const judge = (r: HttpResponse) => judgePreSwitch(r, judgeMain(r, { status: 200 }), how)
    expect(judge(response(301, { location: 'https://www.example.org/app/' })).ok).toBe(true)
    expect(judge(response(302, { location: 'https://elsewhere.example/app/' })).ok).toBe(false)
    expect(judge(response(401, { body: 'HTTP Error 401.3 - Unauthorized' })).ok).toBe(false)
    expect(judge(response(500, { body: 'Error Code 0x80070005' })).ok).toBe(false)
    const sso = { ...how, anyAppAnswer: true }
    expect(judgePreSwitch(response(302, { location: '/accounts/login/' }), judgeMain(response(302), { status: 200 }), sso).ok).toBe(true)
    expect(judgePreSwitch(response(500), judgeMain(response(500), { status: 200 }), sso).ok).toBe(false)
  })
})
