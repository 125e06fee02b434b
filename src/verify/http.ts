import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'

export const BODY_LIMIT = 64 * 1024
export const MAX_REDIRECTS = 5

export interface HttpRequest {
  url: string
  /** Sent as Host instead of the URL's host; also the TLS server name, so SNI bindings and the certificate match it. */
  hostHeader?: string
  timeoutMs: number
  /** PEM file of extra trusted CAs, on top of the bundled and system roots. */
  caBundle?: string
  insecure?: boolean
  followRedirects?: boolean
}

export type HttpErrorKind = 'tls' | 'refused' | 'timeout' | 'dns' | 'reset' | 'redirects' | 'other'

export interface HttpResponse {
  /** The URL of the response returned (differs from the request's after followed redirects). */
  url: string
  status?: number
  headers: http.IncomingHttpHeaders
  /** First 64 KiB of the body, as UTF-8 text. */
  body: string
  location?: string
  /** URLs that redirected to the next one, in order. */
  redirects: string[]
  ms: number
  error?: string
  errorKind?: HttpErrorKind
}

/** Certificate errors that mean "the chain does not lead to a trusted root": a CA bundle fixes these. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE'
])

class RequestTimeout extends Error {
  readonly code = 'REQUEST_TIMEOUT'
}

/** Turns a socket or TLS error into one line a user can act on. */
export function classifyError(error: unknown, url: string, timeoutMs: number): { kind: HttpErrorKind; message: string } {
  const code = (error as { code?: string }).code ?? ''
  const message = error instanceof Error ? error.message : String(error)
  const target = new URL(url)
  const hostPort = `${target.hostname}:${target.port || (target.protocol === 'https:' ? '443' : '80')}`
  if (code === 'REQUEST_TIMEOUT')
    return { kind: 'timeout', message: `timeout: no complete response from ${hostPort} within ${timeoutMs} ms` }
  if (code === 'ECONNREFUSED')
    return {
      kind: 'refused',
      message: `connection refused by ${hostPort}: nothing listens there (site stopped or no binding for this port)`
    }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'dns', message: `host name ${target.hostname} does not resolve` }
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return { kind: 'reset', message: `connection to ${hostPort} was reset before a response arrived` }
  if (UNTRUSTED.has(code)) {
    return {
      kind: 'tls',
      message: `TLS: certificate of ${target.hostname} is not trusted (${code}): pass verify-ca-bundle or fix the chain`
    }
  }
  if (code === 'CERT_HAS_EXPIRED')
    return { kind: 'tls', message: `TLS: certificate of ${target.hostname} has expired (${code}): renew the site's certificate` }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return {
      kind: 'tls',
      message: `TLS: certificate does not name the host (${message}): use a verify-url or verify-host the certificate covers`
    }
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /certificate|ssl|tls/i.test(message)) {
    return { kind: 'tls', message: `TLS: ${code || 'handshake failed'}: ${message}` }
  }
  return { kind: 'other', message: `${code ? `${code}: ` : ''}${message}` }
}

let trustedRoots: string[] | undefined

/**
 * Node's bundled roots plus the operating system's store (Node 23.8+ can read it; on Windows that is where
 * internal CAs live), so passing a CA bundle adds to the defaults rather than replacing them.
 */
function defaultRoots(): string[] {
  if (trustedRoots) return trustedRoots
  const roots = [...tls.rootCertificates]
  const readStore = (tls as { getCACertificates?: (type: 'system') => string[] }).getCACertificates
  if (readStore) {
    try {
      roots.push(...readStore('system'))
    } catch {
      // An unreadable system store leaves the bundled roots, which is Node's own default.
    }
  }
  trustedRoots = roots
  return roots
}

function tlsOptions(request: HttpRequest): https.RequestOptions {
  if (request.insecure) return { rejectUnauthorized: false }
  const options: https.RequestOptions = { rejectUnauthorized: true }
  if (request.caBundle) options.ca = [...defaultRoots(), fs.readFileSync(request.caBundle, 'utf8')]
  else if ((tls as { getCACertificates?: unknown }).getCACertificates) options.ca = defaultRoots()
  return options
}

function hostnameOf(hostHeader: string): string {
  return hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
}

interface OneResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

function requestOnce(url: URL, request: HttpRequest, hostHeader: string | undefined, timeoutMs: number): Promise<OneResponse> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:'
    const options: https.RequestOptions = {
      method: 'GET',
      // A fresh connection per poll: a kept-alive socket to a recycled worker would report stale state.
      agent: false,
      headers: {
        'user-agent': 'django-iis-deploy-verify',
        accept: '*/*',
        connection: 'close',
        ...(hostHeader ? { host: hostHeader } : {})
      },
      ...(isHttps ? tlsOptions(request) : {})
    }
    if (isHttps && hostHeader && net.isIP(hostnameOf(hostHeader)) === 0) options.servername = hostnameOf(hostHeader)
    const send = isHttps ? https.request : http.request
    let settled = false
    const finish = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
    }
    const req = send(url, options, res => {
      const chunks: Buffer[] = []
      let size = 0
      const done = (): void =>
        finish(() =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8')
          })
        )
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk)
        size += chunk.length
        // Enough to diagnose; a large page must not hold the poll.
        if (size >= BODY_LIMIT) {
          done()
          req.destroy()
        }
      })
      res.on('end', done)
      // A connection closed mid-body still gave a status: keep what arrived.
      res.on('close', done)
      res.on('error', error => (size > 0 ? done() : finish(() => reject(error))))
    })
    const timer = setTimeout(() => req.destroy(new RequestTimeout('request timed out')), timeoutMs)
    req.on('error', error => finish(() => reject(error)))
    req.end()
  })
}

/**
 * A redirect to the overridden host name goes back to the address that was checked (that name may not resolve
 * from the runner), still carrying the Host override.
 */
function redirectTarget(next: URL, first: URL, hostHeader: string | undefined): URL {
  if (!hostHeader || next.host.toLowerCase() !== hostHeader.toLowerCase() || next.protocol !== first.protocol) return next
  return new URL(next.pathname + next.search, first.origin)
}

/** One GET (plus redirects when asked), never throwing: failures come back classified in `error`. */
export async function httpGet(request: HttpRequest): Promise<HttpResponse> {
  const started = performance.now()
  const elapsed = (): number => Math.round(performance.now() - started)
  const redirects: string[] = []
  const origin = new URL(request.url).origin
  let current = new URL(request.url)
  for (;;) {
    // The Host override belongs to the original origin; a redirect elsewhere names its own host.
    const hostHeader = request.hostHeader && current.origin === origin ? request.hostHeader : undefined
    const remaining = request.timeoutMs - elapsed()
    let response: OneResponse
    try {
      if (remaining <= 0) throw new RequestTimeout('request timed out')
      response = await requestOnce(current, request, hostHeader, remaining)
    } catch (error) {
      const { kind, message } = classifyError(error, current.toString(), request.timeoutMs)
      return { url: current.toString(), headers: {}, body: '', redirects, ms: elapsed(), error: message, errorKind: kind }
    }
    const location = response.headers.location
    const base = { url: current.toString(), status: response.status, headers: response.headers, body: response.body, redirects }
    const isRedirect = response.status >= 300 && response.status < 400 && location !== undefined
    if (!isRedirect) return { ...base, ms: elapsed() }
    if (!request.followRedirects) return { ...base, location, ms: elapsed() }
    if (redirects.length >= MAX_REDIRECTS) {
      return {
        ...base,
        location,
        ms: elapsed(),
        error: `more than ${MAX_REDIRECTS} redirects (last to ${location})`,
        errorKind: 'redirects'
      }
    }
    redirects.push(current.toString())
    current = redirectTarget(new URL(location, current), new URL(request.url), request.hostHeader)
  }
}
