import type { VerifyConfig } from '../inputs/types.js'
import type { Log } from '../log.js'
import { httpGet, type HttpResponse } from './http.js'
import { withoutCredentials } from './url-credentials.js'

// The deploy's own warm-up request (input warm-up). IIS sends its preload request when the pool's worker starts
// (docs/windows-facts.md, ai-preload), but after a recycle the new worker starts only once the old one is gone,
// and nothing tells the deploy when that happened: one request from the deploy, right after the recycle, makes
// the start happen now and lets verify measure a warm app. It judges nothing; verify does.

/** Answers of a pool (or backend) still starting: waited out (docs/windows-facts.md, vf-starting). */
const STARTING = new Set([502, 503, 504])

export interface WarmUpResult {
  status?: number
  ms: number
  attempts: number
}

export interface WarmUpDeps {
  log: Log
  get?: (request: Parameters<typeof httpGet>[0]) => Promise<HttpResponse>
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

/** Requests the app's URL until it answers with anything but "starting", or verify's total timeout passes. */
export async function warmUpRequest(verify: VerifyConfig, deps: WarmUpDeps): Promise<WarmUpResult> {
  const get = deps.get ?? httpGet
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)))
  const now = deps.now ?? Date.now
  const start = now()
  let attempts = 0
  for (;;) {
    attempts++
    const response = await get({
      url: verify.url,
      ...(verify.hostHeader ? { hostHeader: verify.hostHeader } : {}),
      timeoutMs: verify.totalTimeoutMs,
      ...(verify.caBundle ? { caBundle: verify.caBundle } : {}),
      insecure: verify.insecure,
      followRedirects: verify.followRedirects
    })
    const starting = response.status === undefined || STARTING.has(response.status)
    if (!starting || now() - start + verify.intervalMs > verify.totalTimeoutMs) {
      const answer = response.status === undefined ? (response.error ?? 'no answer') : `HTTP ${response.status}`
      deps.log.info(`Warm-up request to ${withoutCredentials(verify.url)}: ${answer} after ${now() - start} ms (${attempts} attempts)`)
      return { ...(response.status === undefined ? {} : { status: response.status }), ms: now() - start, attempts }
    }
    await sleep(verify.intervalMs)
  }
}
