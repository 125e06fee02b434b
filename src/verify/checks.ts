import type { VerifyConfig } from '../config.js'
import type { Log } from '../log.js'
import { httpGet, type HttpResponse } from './http.js'
import { MIN_ATTEMPT_MS, nextSleep } from './schedule.js'
import { withoutCredentials } from './url-credentials.js'
import { behindWindowsAuth } from './windows-auth.js'

import {
  bodyStart,
  judgeMain,
  judgePreSwitch,
  judgeProtected,
  judgeSsoHandler,
  judgeStatic,
  judgeStatus,
  type Judgement,
  type PreSwitchJudging
} from './judge.js'

export { contentTypeFor, contentTypeMatches, pickStaticFile, staticUrl } from './static.js'
export { bodyStart, judgeMain, judgeProtected, judgeSsoHandler, judgeStatic, judgeStatus, type Judgement }

export type CheckKind = 'main' | 'extra' | 'static' | 'protected' | 'sso-handler'

export interface UrlCheckResult {
  name: string
  kind: CheckKind
  url: string
  ok: boolean
  status?: number
  /** Time until the check passed or gave up. */
  ms: number
  attempts: number
  /** One line: why it passed or failed. */
  detail: string
  /** First lines of the last body, kept for diagnosis when the check failed. */
  bodyStart?: string
  contentType?: string
  location?: string
}

/** What verify checks: the verify inputs, plus the static file and SSO checks main derives from the deploy. */
export interface VerifyPlan extends Omit<VerifyConfig, 'checkStatic'> {
  staticFile?: { url: string; expectedContentType: string }
  /** With SSO: an unauthenticated request here must be redirected to the SP's handler. */
  protectedPath?: { url: string }
  /** With SSO: the SP's Session handler on the site, which answers only when the IIS module maps the site. */
  ssoHandler?: SsoHandlerTarget
  /** auth: windows: every check expects IIS's 401 challenge (src/verify/windows-auth.ts). */
  windowsAuth?: boolean
  /** The checks run on the temporary site before the switch (src/verify/pre-switch.ts). */
  preSwitch?: PreSwitchJudging
}

export interface SsoHandlerTarget {
  /** e.g. https://host/Shibboleth.sso/Session */
  url: string
  /** The IIS site id and host the <ISAPI><Site> must carry, named when the check fails. */
  siteId: number
  host: string
}

export function verifyPlan(
  verify: VerifyConfig,
  extras: Pick<VerifyPlan, 'staticFile' | 'protectedPath' | 'ssoHandler' | 'windowsAuth'> = {}
): VerifyPlan {
  const { checkStatic, ...rest } = verify
  return {
    ...rest,
    ...(checkStatic && extras.staticFile ? { staticFile: extras.staticFile } : {}),
    ...(extras.protectedPath ? { protectedPath: extras.protectedPath } : {}),
    ...(extras.ssoHandler ? { ssoHandler: extras.ssoHandler } : {}),
    ...(extras.windowsAuth ? { windowsAuth: true } : {})
  }
}

interface CheckSpec {
  name: string
  kind: CheckKind
  url: string
  followRedirects: boolean
  judge: (response: HttpResponse) => Judgement
}

/** A page's verdict; on the temporary site before the switch, with what only the live site can answer let through. */
function judgePage(response: HttpResponse, usual: Judgement, plan: VerifyPlan): Judgement {
  return plan.preSwitch ? judgePreSwitch(response, usual, plan.preSwitch) : usual
}

function specsOf(plan: VerifyPlan): CheckSpec[] {
  // With SSO the app URL itself must redirect into the SP: the protected check stands in for the main one there.
  const mainIsProtected = plan.protectedPath?.url === plan.url
  const specs: CheckSpec[] = mainIsProtected
    ? []
    : [
        {
          name: 'main',
          kind: 'main',
          url: plan.url,
          followRedirects: plan.followRedirects,
          judge: r => judgePage(r, judgeMain(r, plan), plan)
        }
      ]
  plan.extraUrls.forEach((url, index) =>
    specs.push({
      name: `extra ${index + 1}`,
      kind: 'extra',
      url,
      followRedirects: plan.followRedirects,
      judge: r => judgePage(r, judgeStatus(r, plan.status), plan)
    })
  )
  const staticFile = plan.staticFile
  if (staticFile) {
    specs.push({
      name: 'static',
      kind: 'static',
      url: staticFile.url,
      followRedirects: false,
      judge: r => judgeStatic(r, staticFile.expectedContentType)
    })
  }
  // The redirect itself is the evidence, so it is never followed.
  if (plan.protectedPath)
    specs.push({ name: 'protected', kind: 'protected', url: plan.protectedPath.url, followRedirects: false, judge: judgeProtected })
  const ssoHandler = plan.ssoHandler
  if (ssoHandler)
    specs.push({
      name: 'sso-handler',
      kind: 'sso-handler',
      url: ssoHandler.url,
      followRedirects: false,
      judge: r => judgeSsoHandler(r, ssoHandler)
    })
  return plan.windowsAuth ? specs.map(behindWindowsAuth) : specs
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Statuses of a pool or backend that is still starting (HttpPlatformHandler proxies): worth waiting out. */
const STARTING = new Set([502, 503, 504])
/** The same failing answer this many times, over at least STABLE_MIN_MS, will not change by waiting longer. */
export const STABLE_ANSWERS = 10
export const STABLE_MIN_MS = 5000

function answerKey(response: HttpResponse): string | undefined {
  if (response.status === undefined || STARTING.has(response.status)) return undefined
  return `${response.status}\n${response.location ?? ''}\n${response.body}`
}

async function poll(spec: CheckSpec, plan: VerifyPlan, log: Log): Promise<UrlCheckResult> {
  const started = performance.now()
  const deadline = started + plan.totalTimeoutMs
  let attempts = 0
  let timeoutMs = plan.requestTimeoutMs
  // The last response that had a status: a final request cut short by the deadline must not hide it.
  let answered: { response: HttpResponse; verdict: Judgement } | undefined
  let sameKey: string | undefined
  let sameCount = 0
  let sameSince = started
  for (;;) {
    attempts++
    let response = await httpGet({
      url: spec.url,
      hostHeader: plan.hostHeader || undefined,
      timeoutMs,
      caBundle: plan.caBundle || undefined,
      insecure: plan.insecure,
      followRedirects: spec.followRedirects
    })
    let verdict = spec.judge(response)
    log.debug(`verify ${spec.name}: attempt ${attempts}: ${verdict.detail} (${response.ms} ms)`)
    const key = answerKey(response)
    if (key !== undefined && key === sameKey) sameCount++
    else [sameKey, sameCount, sameSince] = [key, 1, performance.now()]
    const stable = !verdict.ok && sameKey !== undefined && sameCount >= STABLE_ANSWERS && performance.now() - sameSince >= STABLE_MIN_MS
    const remaining = deadline - performance.now()
    if (verdict.ok || verdict.final || stable || remaining < MIN_ATTEMPT_MS) {
      const ms = Math.round(performance.now() - started)
      const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`
      const cutShort = !verdict.ok && response.errorKind === 'timeout' && timeoutMs < plan.requestTimeoutMs
      if (cutShort && answered) [response, verdict] = [answered.response, answered.verdict]
      else if (cutShort)
        verdict = { ok: false, detail: `no complete response within verify-timeout (${(plan.totalTimeoutMs / 1000).toFixed(1)} s)` }
      const why = stable
        ? `the same answer ${sameCount} times in ${((performance.now() - sameSince) / 1000).toFixed(1)} s; stopped early`
        : `gave up after ${tries} in ${(ms / 1000).toFixed(1)} s`
      return {
        name: spec.name,
        kind: spec.kind,
        url: withoutCredentials(spec.url),
        ok: verdict.ok,
        ...(response.status !== undefined ? { status: response.status } : {}),
        ms,
        attempts,
        detail: verdict.ok ? verdict.detail : `${verdict.detail} (${why})`,
        ...(!verdict.ok && response.body ? { bodyStart: bodyStart(response.body) } : {}),
        ...(typeof response.headers['content-type'] === 'string' ? { contentType: response.headers['content-type'] } : {}),
        ...(response.location ? { location: response.location } : {})
      }
    }
    if (response.status !== undefined) answered = { response, verdict }
    // The last poll starts before the deadline with room to complete.
    await sleep(nextSleep(plan.intervalMs, attempts, response.ms, remaining - MIN_ATTEMPT_MS))
    // A request never outlives the total timeout, so verify ends within verify-timeout (or one request timeout).
    timeoutMs = Math.max(MIN_ATTEMPT_MS, Math.min(plan.requestTimeoutMs, deadline - performance.now()))
  }
}

/**
 * Runs every check of the plan side by side, each polling until it passes or the shared total timeout ends,
 * so the whole verify is bounded by verify-timeout however many URLs there are.
 */
export async function runChecks(plan: VerifyPlan, log: Log): Promise<UrlCheckResult[]> {
  const specs = specsOf(plan)
  if (plan.insecure && specs.some(s => s.url.startsWith('https:'))) {
    log.warning('verify-insecure is on: TLS certificates of the checked URLs are not verified')
  }
  const results = await Promise.all(specs.map(spec => poll(spec, plan, log)))
  for (const r of results) {
    const line = `${r.ok ? 'passed' : 'FAILED'} ${r.name} ${r.url}: ${r.detail}${r.ok ? ` in ${r.ms} ms, ${r.attempts} attempt(s)` : ''}`
    // Failures become one error annotation in main, with rollback's result; here they are plain log lines.
    log.info(line)
  }
  return results
}
