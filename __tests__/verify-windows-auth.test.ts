import { describe, expect, it } from 'vitest'
import { verifyTargets } from '../src/verify/targets.js'
import { runChecks, verifyPlan } from '../src/verify/checks.js'
import { captureLog } from './support/iis-test-log.js'
import { serve, track, verifyConfig } from './support/verify-servers.js'

/** IIS with Windows Authentication and anonymous off: 401 with both challenges as two headers, for every path. */
const challenging = (offer: string[]) => (_req: unknown, res: import('node:http').ServerResponse) => {
  res.writeHead(401, [...offer.map(o => ['WWW-Authenticate', o] as [string, string]), ['Content-Type', 'text/html']])
  res.end('401 - Unauthorized: Access is denied due to invalid credentials.')
}

describe('verify with auth: windows', () => {
  it('passes the app URL and the static file on 401 with Negotiate or NTLM, and fails an open or wrongly guarded app', async () => {
    const s = await track(serve(challenging(['Negotiate', 'NTLM'])))
    const config = { appPath: '/app', verify: verifyConfig(`${s.url}app/`, { totalTimeoutMs: 300 }), auth: 'windows' as const }
    const targets = verifyTargets(
      { ...config, shibboleth: { enabled: false, configPath: '', host: '' } },
      { files: ['css/site.css'], elsewhere: false },
      1
    )
    expect(targets.windowsAuth).toBe(true)
    const results = await runChecks(verifyPlan(config.verify, targets), captureLog())
    expect(results.map(r => [r.kind, r.ok])).toEqual([
      ['main', true],
      ['static', true]
    ])
    expect(results[0]?.detail).toBe('HTTP 401 with WWW-Authenticate Negotiate, NTLM: Windows Authentication is on')

    const open = await track(serve((_req, res) => res.end('hello')))
    const [anonymous] = await runChecks(verifyPlan(verifyConfig(open.url, { totalTimeoutMs: 300 }), { windowsAuth: true }), captureLog())
    expect(anonymous?.ok).toBe(false)
    expect(anonymous?.detail).toMatch(/anonymous access is still on/)

    const basic = await track(serve(challenging(['Basic realm="x"'])))
    const [wrong] = await runChecks(verifyPlan(verifyConfig(basic.url, { totalTimeoutMs: 300 }), { windowsAuth: true }), captureLog())
    expect(wrong?.detail).toMatch(/offering Basic, not Negotiate or NTLM/)
  })
})
