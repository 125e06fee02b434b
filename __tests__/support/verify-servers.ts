import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import type { VerifyConfig } from '../../src/config.js'
import { tempDir } from './temp-dir.js'
import { afterAll } from 'vitest'

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void

export interface Running {
  url: string
  port: number
  close(): Promise<void>
}

function running(server: http.Server, scheme: 'http' | 'https'): Running {
  const port = (server.address() as AddressInfo).port
  return {
    url: `${scheme}://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

function listen(server: http.Server, port = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
}

/** A real HTTP server on loopback, on an ephemeral port. */
export async function serve(handler: Handler): Promise<Running> {
  const server = http.createServer(handler)
  await listen(server)
  return running(server, 'http')
}

export async function serveHttps(handler: Handler, pki: Pki): Promise<Running> {
  const server = https.createServer({ key: fs.readFileSync(pki.serverKey), cert: fs.readFileSync(pki.serverCert) }, handler)
  await listen(server)
  return running(server, 'https')
}

/** A port that was free a moment ago: listened on, then closed. */
export async function freePort(): Promise<number> {
  const server = http.createServer()
  await listen(server)
  const port = (server.address() as AddressInfo).port
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

/** Starts listening on `port` only after `afterMs`: a site that comes up late. */
export function serveLate(port: number, afterMs: number, handler: Handler): { started: Promise<Running> } {
  const server = http.createServer(handler)
  const started = new Promise<Running>((resolve, reject) => {
    setTimeout(() => void listen(server, port).then(() => resolve(running(server, 'http')), reject), afterMs)
  })
  return { started }
}

export interface Pki {
  dir: string
  caCert: string
  serverKey: string
  serverCert: string
}

/** A CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
export function makePki(): Pki {
  const dir = tempDir('verify-pki')
  const f = (name: string): string => path.join(dir, name)
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' })
  }
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=verify test CA'
  )
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost')
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n')
  openssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf')
  )
  return { dir, caCert: f('ca.pem'), serverKey: f('server.key'), serverCert: f('server.pem') }
}

/**
 * verify inputs as getInputs makes them, for loopback servers. A check's first request always has the whole
 * request timeout, so a generous one lets a server's answer, never the machine's load, decide a test that gives
 * verify a short total budget to fail quickly.
 */
export function verifyConfig(url: string, overrides: Partial<VerifyConfig> = {}): VerifyConfig {
  return {
    url,
    status: 200,
    extraUrls: [],
    hostHeader: '',
    requestTimeoutMs: 10_000,
    totalTimeoutMs: 10_000,
    intervalMs: 50,
    caBundle: '',
    insecure: false,
    followRedirects: false,
    checkStatic: true,
    ...overrides
  }
}

// Each test file loads this module afresh: servers it starts through track() are closed when that file ends.
const open: Running[] = []
afterAll(async () => {
  await Promise.all(open.splice(0).map(r => r.close()))
})

/** Keeps a started server to close after the test file. */
export async function track(r: Promise<Running>): Promise<Running> {
  const running = await r
  open.push(running)
  return running
}
