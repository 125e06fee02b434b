import { beforeAll, describe, expect, it } from 'vitest'
import { BODY_LIMIT, MAX_REDIRECTS, httpGet } from '../src/verify/http.js'
import { freePort, makePki, track, serve, serveHttps, type Pki, type Running } from './support/verify-servers.js'

describe('httpGet over real sockets', () => {
  it('sends the Host override and returns status, headers and body', async () => {
    const s = await track(
      serve((req, res) =>
        res.writeHead(200, { 'content-type': 'text/plain', 'x-seen-host': req.headers.host ?? '' }).end(`hello ${req.url}`)
      )
    )
    const r = await httpGet({ url: `${s.url}page?x=1`, hostHeader: 'app.example.org', timeoutMs: 5000 })
    expect(r.error).toBeUndefined()
    expect(r.status).toBe(200)
    expect(r.headers['x-seen-host']).toBe('app.example.org')
    expect(r.body).toBe('hello /page?x=1')
    expect(r.ms).toBeGreaterThanOrEqual(0)
  })

  it('returns a redirect as is unless asked to follow it', async () => {
    const s = await track(
      serve((req, res) => {
        if (req.url === '/old') res.writeHead(302, { location: '/new' }).end()
        else res.writeHead(200).end('arrived')
      })
    )
    const kept = await httpGet({ url: `${s.url}old`, timeoutMs: 5000 })
    expect(kept.status).toBe(302)
    expect(kept.location).toBe('/new')
    expect(kept.redirects).toEqual([])

    const followed = await httpGet({ url: `${s.url}old`, timeoutMs: 5000, followRedirects: true })
    expect(followed.status).toBe(200)
    expect(followed.body).toBe('arrived')
    expect(followed.url).toBe(`${s.url}new`)
    expect(followed.redirects).toEqual([`${s.url}old`])
  })

  it('follows an absolute redirect to the overridden host back to the checked address, keeping the Host header', async () => {
    const s = await track(
      serve((req, res) => {
        if (req.url === '/app') res.writeHead(301, { location: `http://${req.headers.host}/app/` }).end()
        else res.writeHead(200).end(`at ${req.url} for ${req.headers.host}`)
      })
    )
    const r = await httpGet({ url: `${s.url}app`, hostHeader: 'app.example.org', timeoutMs: 5000, followRedirects: true })
    expect(r.error).toBeUndefined()
    expect(r.body).toBe('at /app/ for app.example.org')
    expect(r.url).toBe(`${s.url}app/`)
  })

  it(`stops after ${MAX_REDIRECTS} redirects with an error`, async () => {
    const s = await track(serve((req, res) => res.writeHead(302, { location: `/loop${Number(req.url?.slice(5) || 0) + 1}` }).end()))
    const r = await httpGet({ url: `${s.url}loop0`, timeoutMs: 5000, followRedirects: true })
    expect(r.errorKind).toBe('redirects')
    expect(r.redirects).toHaveLength(MAX_REDIRECTS)
    expect(r.error).toMatch(/more than 5 redirects/)
  })

  it('keeps only the first 64 KiB of a large body', async () => {
    const s = await track(serve((_req, res) => res.writeHead(200).end('x'.repeat(BODY_LIMIT * 4))))
    const r = await httpGet({ url: s.url, timeoutMs: 5000 })
    expect(r.status).toBe(200)
    expect(r.body.length).toBe(BODY_LIMIT)
  })

  it('classifies a refused connection', async () => {
    const port = await freePort()
    const r = await httpGet({ url: `http://127.0.0.1:${port}/`, timeoutMs: 5000 })
    expect(r.status).toBeUndefined()
    expect(r.errorKind).toBe('refused')
    expect(r.error).toContain(`connection refused by 127.0.0.1:${port}`)
  })

  it('classifies a server that never answers as a timeout', async () => {
    const s = await track(serve(() => undefined))
    const r = await httpGet({ url: s.url, timeoutMs: 300 })
    expect(r.errorKind).toBe('timeout')
    expect(r.error).toContain('no complete response')
    expect(r.error).toContain('300 ms')
  })

  describe('https with a CA made at test time', () => {
    let pki: Pki
    let s: Running
    beforeAll(async () => {
      pki = makePki()
      s = await track(serveHttps((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('secure hello'), pki))
    })

    it('trusts the server when the CA bundle is passed', async () => {
      const r = await httpGet({ url: s.url, timeoutMs: 5000, caBundle: pki.caCert })
      expect(r.error).toBeUndefined()
      expect(r.body).toBe('secure hello')
    })

    it('checks the certificate against the Host override name', async () => {
      const r = await httpGet({ url: s.url, hostHeader: 'localhost', timeoutMs: 5000, caBundle: pki.caCert })
      expect(r.error).toBeUndefined()
      expect(r.status).toBe(200)
      const wrong = await httpGet({ url: s.url, hostHeader: 'other.example.org', timeoutMs: 5000, caBundle: pki.caCert })
      expect(wrong.errorKind).toBe('tls')
      expect(wrong.error).toMatch(/does not name the host/)
    })

    it('fails with a clear TLS error without the bundle', async () => {
      const r = await httpGet({ url: s.url, timeoutMs: 5000 })
      expect(r.status).toBeUndefined()
      expect(r.errorKind).toBe('tls')
      expect(r.error).toMatch(/^TLS: certificate of 127\.0\.0\.1 is not trusted \(\w+\): pass verify-ca-bundle or fix the chain$/)
    })

    it('skips verification only when insecure is asked for', async () => {
      const r = await httpGet({ url: s.url, timeoutMs: 5000, insecure: true })
      expect(r.error).toBeUndefined()
      expect(r.body).toBe('secure hello')
    })
  })
})
