import { describe, expect, it } from 'vitest'
import type { VerifyConfig } from '../src/config.js'
import { diagnoseAll, evidenceFromChecks } from '../src/diagnose.js'
import { runChecks, verifyPlan, type VerifyPlan } from '../src/verify/checks.js'
import { verifyTargets, type StaticTarget } from '../src/verify/targets.js'
import { captureLog } from './support/iis-test-log.js'
import { freePort, makePki, track, serve, serveHttps, serveLate, verifyConfig } from './support/verify-servers.js'

function plan(
  url: string,
  overrides: Partial<VerifyConfig> = {},
  extras: Pick<VerifyPlan, 'staticFile' | 'protectedPath' | 'ssoHandler'> = {}
): VerifyPlan {
  return verifyPlan(verifyConfig(url, overrides), extras)
}

describe('runChecks against real loopback servers', () => {
  it('passes on the fourth attempt after three 500s', async () => {
    let calls = 0
    const s = await track(serve((_req, res) => (++calls <= 3 ? res.writeHead(500).end('boom') : res.writeHead(200).end('ok'))))
    const [main] = await runChecks(plan(s.url), captureLog())
    expect(main).toMatchObject({ name: 'main', kind: 'main', ok: true, status: 200, attempts: 4 })
    expect(main?.bodyStart).toBeUndefined()
  })

  it('passes when the site starts listening late', async () => {
    const port = await freePort()
    const late = serveLate(port, 700, (_req, res) => res.writeHead(200).end('up'))
    const [main] = await runChecks(plan(`http://127.0.0.1:${port}/`), captureLog())
    await track(late.started)
    expect(main?.ok).toBe(true)
    expect(main?.attempts).toBeGreaterThan(1)
  })

  it('gives up on a site that never becomes healthy within the total timeout, saying why', async () => {
    const s = await track(
      serve((_req, res) => res.writeHead(503, { 'content-type': 'text/html' }).end('<h1>Service Unavailable</h1>\nline 2'))
    )
    const log = captureLog()
    // The server never answers 200, so the verdict is load-proof; 3 s leaves room for more than two attempts.
    const [main] = await runChecks(plan(s.url, { totalTimeoutMs: 3000 }), log)
    expect(main?.ok).toBe(false)
    expect(main?.status).toBe(503)
    expect(main?.attempts).toBeGreaterThan(2)
    expect(main?.detail).toMatch(/^HTTP 503, expected 200 \(gave up after \d+ attempts in \d+\.\d s\)$/)
    expect(main?.bodyStart).toBe('<h1>Service Unavailable</h1>\nline 2')
    expect(log.lines.some(l => l.startsWith('info: FAILED main'))).toBe(true)
  })

  it('reports a refused connection when nothing ever listens', async () => {
    const port = await freePort()
    const [main] = await runChecks(plan(`http://127.0.0.1:${port}/`, { totalTimeoutMs: 600 }), captureLog())
    expect(main?.ok).toBe(false)
    expect(main?.status).toBeUndefined()
    expect(main?.detail).toContain('connection refused')
  })

  it('checks the body text and regex of the main URL', async () => {
    const s = await track(serve((_req, res) => res.writeHead(200).end('Hello from Django, release 42')))
    const [text] = await runChecks(plan(s.url, { body: { text: 'release 42' } }), captureLog())
    expect(text?.ok).toBe(true)
    const [regex] = await runChecks(plan(s.url, { body: { regex: 'release \\d+$' } }), captureLog())
    expect(regex?.ok).toBe(true)
    const [missing] = await runChecks(plan(s.url, { body: { text: 'release 43' }, totalTimeoutMs: 300 }), captureLog())
    expect(missing?.ok).toBe(false)
    expect(missing?.detail).toContain('the body does not contain "release 43" (verify-body)')
  })

  it('reports a redirect to a login page as such', async () => {
    const s = await track(serve((_req, res) => res.writeHead(302, { location: '/accounts/login/?next=/' }).end()))
    const [main] = await runChecks(plan(s.url, { totalTimeoutMs: 300 }), captureLog())
    expect(main?.ok).toBe(false)
    expect(main?.location).toBe('/accounts/login/?next=/')
    expect(main?.detail).toMatch(/^redirected to a login page \(\/accounts\/login\/\?next=\/\), expected HTTP 200/)
  })

  it('reports a followed redirect that lands on a login page', async () => {
    const s = await track(
      serve((req, res) => (req.url === '/' ? res.writeHead(302, { location: '/signin' }).end() : res.writeHead(200).end('<form>')))
    )
    const [main] = await runChecks(plan(s.url, { totalTimeoutMs: 300, followRedirects: true }), captureLog())
    expect(main?.ok).toBe(false)
    expect(main?.detail).toContain(`redirected to a login page (${s.url}signin)`)
  })

  it('checks extra URLs for the expected status', async () => {
    const s = await track(serve((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end()))
    const results = await runChecks(plan(s.url, { extraUrls: [`${s.url}health`, `${s.url}missing`], totalTimeoutMs: 300 }), captureLog())
    expect(results.map(r => [r.name, r.ok])).toEqual([
      ['main', false],
      ['extra 1', true],
      ['extra 2', false]
    ])
    expect(results[2]?.detail).toMatch(/^HTTP 404, expected 200/)
  })

  describe('static file', () => {
    it('passes when served with the matching content type', async () => {
      const s = await track(serve((_req, res) => res.writeHead(200, { 'content-type': 'text/css; charset=utf-8' }).end('body{}')))
      const results = await runChecks(
        plan(s.url, {}, { staticFile: { url: `${s.url}static/admin/css/base.css`, expectedContentType: 'text/css' } }),
        captureLog()
      )
      expect(results.find(r => r.kind === 'static')).toMatchObject({ ok: true, contentType: 'text/css; charset=utf-8' })
    })

    it('fails with a clear detail when served with the wrong content type', async () => {
      const s = await track(serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Page not found</h1>')))
      const results = await runChecks(
        plan(s.url, { totalTimeoutMs: 300 }, { staticFile: { url: `${s.url}static/admin/css/base.css`, expectedContentType: 'text/css' } }),
        captureLog()
      )
      const check = results.find(r => r.kind === 'static')
      expect(check?.ok).toBe(false)
      expect(check?.detail).toMatch(/^served as text\/html, expected text\/css: the static handler does not serve this path/)
    })

    it('accepts either spelling of the JavaScript type', async () => {
      const s = await track(serve((_req, res) => res.writeHead(200, { 'content-type': 'text/javascript' }).end('1')))
      const results = await runChecks(
        plan(s.url, {}, { staticFile: { url: `${s.url}static/app.js`, expectedContentType: 'application/javascript' } }),
        captureLog()
      )
      expect(results.find(r => r.kind === 'static')?.ok).toBe(true)
    })

    it('is left out when verify-static is off', () => {
      const p = plan(
        'http://127.0.0.1/',
        { checkStatic: false },
        { staticFile: { url: 'http://127.0.0.1/static/x.css', expectedContentType: 'text/css' } }
      )
      expect(p.staticFile).toBeUndefined()
    })
  })

  describe('protected path (SSO)', () => {
    it('passes when redirected to the Shibboleth handler', async () => {
      const s = await track(
        serve((req, res) =>
          req.url === '/private/'
            ? res.writeHead(302, { location: 'https://host.example.org/Shibboleth.sso/Login?target=%2Fprivate%2F' }).end()
            : res.writeHead(200).end()
        )
      )
      const results = await runChecks(plan(s.url, { followRedirects: true }, { protectedPath: { url: `${s.url}private/` } }), captureLog())
      expect(results.find(r => r.kind === 'protected')).toMatchObject({ ok: true, status: 302, attempts: 1 })
    })

    it('fails when the path answers 200', async () => {
      const s = await track(serve((_req, res) => res.writeHead(200).end('secret page')))
      const results = await runChecks(plan(s.url, { totalTimeoutMs: 300 }, { protectedPath: { url: `${s.url}private/` } }), captureLog())
      const check = results.find(r => r.kind === 'protected')
      expect(check?.ok).toBe(false)
      expect(check?.detail).toMatch(/^HTTP 200 without a login: the path is not protected/)
    })

    it('fails when redirected somewhere other than the SP handler', async () => {
      const s = await track(serve((_req, res) => res.writeHead(302, { location: '/accounts/login/' }).end()))
      const results = await runChecks(
        plan(s.url, { totalTimeoutMs: 300, status: 302 }, { protectedPath: { url: `${s.url}private/` } }),
        captureLog()
      )
      expect(results.find(r => r.kind === 'main')?.ok).toBe(true)
      expect(results.find(r => r.kind === 'protected')?.detail).toMatch(
        /^HTTP 302 to \/accounts\/login\/, not to the SP's \/Shibboleth\.sso\/ handler/
      )
    })
  })

  describe("the SP's Session handler at the site root (SSO)", () => {
    const ssoHandler = (url: string): VerifyPlan['ssoHandler'] => ({
      url: `${url}Shibboleth.sso/Session`,
      siteId: 3,
      host: 'apps.example.edu'
    })
    const sessionCheck = async (answer: (res: import('node:http').ServerResponse) => void, totalTimeoutMs = 300) => {
      const s = await track(
        serve((req, res) =>
          req.url === '/Shibboleth.sso/Session' ? answer(res) : res.writeHead(302, { location: '/Shibboleth.sso/Login' }).end()
        )
      )
      const results = await runChecks(plan(s.url, { totalTimeoutMs }, { ssoHandler: ssoHandler(s.url) }), captureLog())
      return { url: s.url, results, check: results.find(r => r.kind === 'sso-handler') }
    }

    it("passes on the handler's page for a caller without a session", async () => {
      const { url, check } = await sessionCheck(res =>
        res
          .writeHead(200, { 'content-type': 'text/html; charset=UTF-8' })
          .end('<html><head><title>Session Summary</title></head><body><pre>\nA valid session was not found.</pre></body></html>\n')
      )
      expect(check).toMatchObject({ name: 'sso-handler', ok: true, status: 200, url: `${url}Shibboleth.sso/Session`, attempts: 1 })
      expect(check?.detail).toBe("HTTP 200 from the SP's Session handler: the IIS module maps site id 3")
    })

    it('passes on the JSON form and on the handler refusing this address through an acl', async () => {
      expect((await sessionCheck(res => res.writeHead(200, { 'content-type': 'application/json' }).end('{}\n'))).check?.ok).toBe(true)
      const refused = (await sessionCheck(res => res.writeHead(403, { 'content-type': 'text/html' }).end('Access Denied'))).check
      expect(refused?.ok).toBe(true)
      expect(refused?.detail).toMatch(/^HTTP 403 "Access Denied" from the SP's Session handler \(its acl refuses this address\)/)
    })

    it("fails on IIS's own 404, naming the ISAPI Site id and the recycle, with the matching diagnosis", async () => {
      const { results, check } = await sessionCheck(res =>
        res
          .writeHead(404, { 'content-type': 'text/html' })
          .end(
            '<h3>HTTP Error 404.0 - Not Found</h3>\n<h4>The resource you are looking for has been removed, had its name changed, or is temporarily unavailable.</h4>'
          )
      )
      expect(check?.ok).toBe(false)
      expect(check?.status).toBe(404)
      expect(check?.detail).toMatch(
        /^HTTP 404 from IIS, not the SP's Session handler: the Shibboleth IIS module serving the site root does not map IIS site id 3; shibboleth2\.xml needs <ISAPI><Site id="3" name="apps\.example\.edu"> with the site's IIS id, and the site's app pools a recycle after <ISAPI> changed \(gave up after/
      )
      expect(diagnoseAll(evidenceFromChecks(results)).map(h => h.id)).toEqual(['sso-site-unknown'])
    })

    it('fails on a 200 that is not the handler (a Django page answering at the root)', async () => {
      const { check } = await sessionCheck(res => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Page not found</h1>'))
      expect(check?.ok).toBe(false)
      expect(check?.detail).toMatch(
        /^HTTP 200, not the SP's Session handler page: expected it to answer for <ISAPI><Site id="3" name="apps\.example\.edu">/
      )
    })
  })

  describe('https', () => {
    it('passes with the CA bundle and stops at once with a TLS error without it', async () => {
      const pki = makePki()
      const s = await track(serveHttps((_req, res) => res.writeHead(200).end('ok'), pki))
      const [trusted] = await runChecks(plan(s.url, { caBundle: pki.caCert }), captureLog())
      expect(trusted?.ok).toBe(true)
      const [untrusted] = await runChecks(plan(s.url), captureLog())
      expect(untrusted?.ok).toBe(false)
      // Waiting cannot fix a certificate chain: one attempt, not a poll until the timeout.
      expect(untrusted?.attempts).toBe(1)
      expect(untrusted?.detail).toContain('not trusted')
      expect(untrusted?.detail).toContain('pass verify-ca-bundle or fix the chain')
      const log = captureLog()
      const [insecure] = await runChecks(plan(s.url, { insecure: true }), log)
      expect(insecure?.ok).toBe(true)
      expect(log.lines).toContain('warning: verify-insecure is on: TLS certificates of the checked URLs are not verified')
    })
  })
})

describe('the static check fetches a collected file where the pages link it', () => {
  const target = (checkUrl?: string, elsewhere = false): StaticTarget => ({
    files: ['admin/js/core.js', 'admin/css/base.css'],
    ...(checkUrl ? { checkUrl } : {}),
    elsewhere
  })
  const config = (url: string): Parameters<typeof verifyTargets>[0] => ({
    appPath: '/app',
    verify: verifyConfig(url),
    shibboleth: { enabled: false, configPath: '', host: '' }
  })

  it('uses the URL the preflight saw the app render, on the verify URL origin', () => {
    expect(
      verifyTargets(config('https://intranet.example.org/app/health'), target('/app/assets/admin/css/base.css'), 1).staticFile
    ).toEqual({
      url: 'https://intranet.example.org/app/assets/admin/css/base.css',
      expectedContentType: 'text/css'
    })
  })

  it('checks no static file when the files are served elsewhere, and <app>/static for a release that recorded no URL', () => {
    expect(verifyTargets(config('http://localhost/app/'), target(undefined, true), 1).staticFile).toBeUndefined()
    expect(verifyTargets(config('http://localhost/app/health'), target(), 1).staticFile?.url).toBe(
      'http://localhost/app/static/admin/css/base.css'
    )
  })

  it('passes against a server that serves the files only at the rendered path', async () => {
    const s = await track(
      serve((req, res) =>
        req.url === '/app/assets/admin/css/base.css'
          ? res.writeHead(200, { 'content-type': 'text/css' }).end('body{}')
          : res.writeHead(req.url === '/app/' ? 200 : 404).end('ok')
      )
    )
    const url = `${s.url}app/`
    const rendered = await runChecks(
      verifyPlan(config(url).verify, verifyTargets(config(url), target('/app/assets/admin/css/base.css'), 1)),
      captureLog()
    )
    expect(rendered.find(c => c.kind === 'static')).toMatchObject({ ok: true, url: `${s.url}app/assets/admin/css/base.css` })
    // The old guess, <app>/static, is what this server does not serve: the check would have failed there.
    const guessed = await runChecks(
      verifyPlan(verifyConfig(url, { totalTimeoutMs: 300 }), verifyTargets(config(url), target(), 1)),
      captureLog()
    )
    expect(guessed.find(c => c.kind === 'static')).toMatchObject({ ok: false, status: 404 })
  })
})
