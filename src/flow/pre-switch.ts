/**
 * verify-before-switch in the deploy flow (docs/pre-switch.md): the temporary site's name, port and root before
 * the plan is built, and the check apply runs at the plan's pre-switch-verify step.
 */
import fs from 'node:fs'
import { evidenceFromChecks, reportDiagnosis, tailFile, type Evidence } from '../diagnose.js'
import type { Step as PlanStep } from '../plan/types.js'
import { pathApi } from '../layout.js'
import { freeLoopbackPort } from '../loopback-port.js'
import type { PlanInput } from '../plan/build.js'
import { preSwitchOrigin, preSwitchSiteName, type PreSwitchSite } from '../plan/pre-switch-ops.js'
import { runChecks, verifyPlan, type UrlCheckResult } from '../verify/checks.js'
import { preSwitchVerifyPlan } from '../verify/pre-switch.js'
import { withoutCredentials } from '../verify/url-credentials.js'
import { verifyTargets, type StaticTarget } from '../verify/targets.js'
import type { RunContext } from './context.js'

/** What a failed check shows, with the server-side log tails the diagnosis reads. */
export function serverEvidence(ctx: RunContext, checks: UrlCheckResult[]): Evidence[] {
  const { config } = ctx
  const logs = config.hosting === 'fastcgi' ? { wsgiLogTail: tailFile(ctx.layout.wsgiLog) } : {}
  return evidenceFromChecks(checks, { ...logs, hostHeader: config.verify.hostHeader || undefined })
}

/**
 * The temporary site for this deploy, and the URL its check names in the plan; undefined when the input is off.
 * `makeRoot`: create the empty root folder (deploy); mode plan changes nothing and only names it.
 */
export async function preSwitchFor(ctx: Pick<RunContext, 'config' | 'layout'>, makeRoot = true): Promise<PlanInput['preSwitch']> {
  const { config, layout } = ctx
  if (!config.verifyBeforeSwitch) return undefined
  const rootPath = pathApi(layout.flavour).join(layout.root, 'pre-switch-root')
  // The root app of a temporary site whose app is below / serves this empty folder: nothing of ours is there.
  if (makeRoot) fs.mkdirSync(rootPath, { recursive: true })
  const site: PreSwitchSite = {
    name: preSwitchSiteName({ site: config.siteName, path: config.appPath }),
    port: await freeLoopbackPort(),
    rootPath
  }
  const live = new URL(config.verify.url)
  return { site, checkUrl: new URL(`${live.pathname}${live.search}`, preSwitchOrigin(site)).href }
}

/** apply's pre-switch check: verify's checks on the temporary site; a failure names the checks and is diagnosed. */
export function checkBeforeSwitch(ctx: RunContext, target: StaticTarget, siteId: number): (step: PlanStep) => Promise<void> {
  return async () => {
    const { config, log } = ctx
    const site = ctx.plan?.preSwitch
    if (!site) throw new Error('the plan has a pre-switch check but no temporary site')
    const live = verifyPlan(config.verify, verifyTargets(config, target, siteId))
    const { plan, skipped } = preSwitchVerifyPlan(live, preSwitchOrigin(site))
    for (const what of skipped) log.info(`Before the switch, not checked (checked after it): ${what}`)
    const title = 'Verify before the switch'
    // Inside apply's log group: GitHub's log has no nested groups, so these are plain lines of it.
    log.info(`${title}: ${withoutCredentials(plan.url)}`)
    const checks = await ctx.phases.run(title, () => runChecks(plan, log), false)
    ctx.preSwitchChecks = checks
    const failed = checks.filter(c => !c.ok)
    if (failed.length === 0) return
    // The summary shows what failed and why; the switch never ran, so there is no verify after it.
    ctx.checks = checks.map(c => ({ ...c, name: `before switch: ${c.name}` }))
    ctx.hints = await reportDiagnosis(log, serverEvidence(ctx, checks), 'Diagnosis (before the switch)')
    throw new Error(failed.map(c => `${c.name}: ${c.detail}`).join('; '))
  }
}
