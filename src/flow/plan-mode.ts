/** mode: plan: the plan a deploy with the same inputs would run, against this server's IIS where it can be read. */
import fs from 'node:fs'
import path from 'node:path'
import { Appcmd } from '../iis/appcmd.js'
import { readStateAt, type CurrentState } from '../iis/state.js'
import { desiredState, stateQuery, type StageFacts } from '../plan/desired.js'
import type { PlanDocument } from '../plan/plan-file.js'
import { deployPlanFor, planDocument, settingsFromSource, writeOutputFiles, writePlan } from '../plan/plan-output.js'
import { preSwitchFor } from './pre-switch.js'
import { describeStaticLocation } from '../plan/static-location.js'
import { renderReleaseConfigs } from '../render/release-configs.js'
import { leaveTarget } from '../shibboleth/leave.js'
import { planLeaveShibboleth, planShibboleth } from '../shibboleth/plan.js'
import { shibbolethTarget } from '../shibboleth/target.js'
import { computeVenvHash, factsFor } from '../stage.js'
import type { RunContext } from './context.js'
import { pendingFromSource, planMigrations, reportPending } from './database-steps.js'
import { interpreterOf } from './prepare.js'
import type { Step } from './steps.js'

/**
 * Where `program` (a path, or a name looked up on the run's PATH) is on this machine; undefined when it is not.
 * The run's environment (RunDeps.env) is what plan mode searches, so a run given another PATH plans against it.
 */
function findProgram(program: string, env: NodeJS.ProcessEnv): string | undefined {
  if (/[\\/]/.test(program)) return fs.existsSync(program) ? program : undefined
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean)
  const exts = process.platform === 'win32' ? ['', '.exe', '.cmd', '.bat'] : ['']
  for (const dir of dirs) for (const ext of exts) if (fs.existsSync(path.join(dir, program + ext))) return path.join(dir, program + ext)
  return undefined
}

/**
 * Plan mode reads IIS where appcmd is there, so the plan shows what a deploy with the same inputs would do next;
 * elsewhere (a pull-request runner) it plans against an empty server and says so.
 */
async function serverStateForPlan(ctx: RunContext): Promise<CurrentState | undefined> {
  const { config, log } = ctx
  const found = findProgram(config.appcmd, ctx.deps.env)
  if (!found) {
    log.info(`${config.appcmd} is not on this machine: planning against an empty server (no app, pool or grants yet).`)
    return undefined
  }
  const appcmd = new Appcmd({ runner: ctx.runner, log, path: found })
  const current = await readStateAt(appcmd, stateQuery(config), ctx.layout.root)
  log.info(`Planned against the IIS state read from this server with ${config.appcmd}.`)
  return current
}

export const planFromSource: Step = {
  name: 'Plan',
  phase: 'grouped',
  run: async ctx => {
    const { config, log, templates } = ctx
    const interpreter = interpreterOf(ctx)
    const source = settingsFromSource(config)
    if (source.staticUrl === undefined) {
      log.info(`STATIC_URL is not a literal in the settings file: the plan assumes 'static/'; stage and deploy read it from Django.`)
    }
    const staticSettings = { staticUrl: source.staticUrl ?? 'static/', forceScriptName: source.forceScriptName }
    const facts: StageFacts = factsFor(
      interpreter,
      config.releaseId,
      computeVenvHash(config, interpreter),
      source.wsgiApplication,
      staticSettings
    )
    const desired = desiredState(config, facts)
    log.info(describeStaticLocation(desired.staticLocation))
    fs.mkdirSync(config.outputDir, { recursive: true })
    const files = writeOutputFiles(config.outputDir, renderReleaseConfigs(templates, config, desired, facts))
    const current = await serverStateForPlan(ctx)
    let shibboleth: PlanDocument['shibboleth']
    let sp: ReturnType<typeof planShibboleth> | undefined
    if (config.shibboleth.enabled) {
      // Without IIS to read, the site id is the one of a default server's first site.
      sp = planShibboleth(shibbolethTarget(config, current?.site.id ?? 1), config.outputDir, templates)
      if (!current) log.info('Shibboleth: ISAPI Site id 1 assumed (no IIS state was read); deploy mode uses the id IIS reports.')
    } else {
      sp = planLeaveShibboleth(leaveTarget(config), config.outputDir)
    }
    if (sp) {
      if (config.shibboleth.enabled || sp.changed) files.push({ path: sp.outputPath, status: 'written' })
      shibboleth = { file: config.shibboleth.configPath, changed: sp.changed, diff: sp.diff }
    }
    reportPending(ctx, await pendingFromSource(ctx, interpreter.executable))
    // The temporary site a deploy would check the release on before the switch (its port is picked again then).
    const preSwitch = current ? await preSwitchFor(ctx, false) : undefined
    const plan = {
      ...planDocument(config, facts.releaseId, await deployPlanFor(config, desired, current, sp, preSwitch), files),
      shibboleth,
      ...planMigrations(ctx)
    }
    ctx.planPath = writePlan(config, log, plan)
    ctx.files = files
    log.info(`Rendered files and plan.json are in ${config.outputDir}`)
  }
}
