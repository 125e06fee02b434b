import { describe, expect, it } from 'vitest'
import { STABLE_ANSWERS, STABLE_MIN_MS, runChecks, verifyPlan } from '../src/verify/checks.js'
import { captureLog } from './support/iis-test-log.js'
import { serve, track, verifyConfig } from './support/verify-servers.js'

// How a failing verify ends: soon when the answer will not change, and always with the last real answer.
describe('verify gives up with the evidence', () => {
  it('stops early on the same 500 many times, keeping its body, long before verify-timeout', async () => {
    let calls = 0
    const s = await track(
      serve((_req, res) => (calls++, res.writeHead(500, { 'content-type': 'text/plain' }).end('Traceback: ImproperlyConfigured')))
    )
    const started = performance.now()
    // "Long before" is half of verify-timeout: stopping early takes STABLE_ANSWERS answers and STABLE_MIN_MS, however
    // slowly a loaded machine answers them, while reaching the deadline would take the whole 120 s.
    const [main] = await runChecks(verifyPlan(verifyConfig(s.url, { totalTimeoutMs: 120_000, intervalMs: 250 })), captureLog())
    const ms = performance.now() - started
    expect(main?.ok).toBe(false)
    expect(main?.status).toBe(500)
    expect(main?.bodyStart).toBe('Traceback: ImproperlyConfigured')
    expect(main?.detail).toMatch(/^HTTP 500, expected 200 \(the same answer \d+ times in \d+\.\d s; stopped early\)$/)
    expect(main?.attempts).toBeGreaterThanOrEqual(STABLE_ANSWERS)
    expect(calls).toBeLessThan(40)
    expect(ms).toBeGreaterThanOrEqual(STABLE_MIN_MS)
    expect(ms).toBeLessThan(60_000)
  })

  it('keeps polling a 503 (a pool still starting) until verify-timeout', async () => {
    const s = await track(serve((_req, res) => res.writeHead(503).end('starting')))
    const [main] = await runChecks(verifyPlan(verifyConfig(s.url, { totalTimeoutMs: 1500 })), captureLog())
    expect(main?.detail).toMatch(/gave up after \d+ attempts/)
  })

  it('reports the last answer, not the final request cut short by the deadline', async () => {
    let calls = 0
    // The first answer is a fast 500; every later request hangs past verify-timeout.
    const s = await track(serve((_req, res) => (++calls === 1 ? res.writeHead(500).end('the real error') : undefined)))
    const [main] = await runChecks(verifyPlan(verifyConfig(s.url, { totalTimeoutMs: 1500, requestTimeoutMs: 10_000 })), captureLog())
    expect(main?.ok).toBe(false)
    expect(main?.status).toBe(500)
    expect(main?.bodyStart).toBe('the real error')
    expect(main?.detail).not.toMatch(/timeout|within \d+ ms/)
    expect(main?.detail).toMatch(/^HTTP 500, expected 200 \(gave up after \d+ attempts/)
  })

  it('says verify-timeout ran out when no request ever answered', async () => {
    const s = await track(serve(() => undefined))
    // The server never answers, so only the timers decide. The first request has its whole 1000 ms; a second, if a
    // loaded machine's late timers leave room for one, only what is left, so it is cut short at the deadline: never
    // a third, however late the timers fire.
    const [main] = await runChecks(verifyPlan(verifyConfig(s.url, { totalTimeoutMs: 1600, requestTimeoutMs: 1000 })), captureLog())
    expect(main?.attempts).toBeGreaterThanOrEqual(1)
    expect(main?.attempts).toBeLessThanOrEqual(2)
    expect(main?.detail).toMatch(/^no complete response within verify-timeout \(1\.6 s\)/)
  })

  it('prints a URL without its credentials', async () => {
    const s = await track(serve((_req, res) => res.writeHead(200).end('ok')))
    const log = captureLog()
    const url = s.url.replace('http://', 'http://deployer:hunter2-pw@')
    const [main] = await runChecks(verifyPlan(verifyConfig(url)), log)
    expect(main?.ok).toBe(true)
    expect(main?.url).toBe(s.url)
    expect(log.lines.join('\n')).not.toContain('hunter2-pw')
  })
})
