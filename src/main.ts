import * as core from '@actions/core'
import fs from 'node:fs'
import path from 'node:path'
import { actionInputs, getInputs, type DeployConfig, type InputReader } from './config.js'
import { deployMode, withBindingUrl } from './deploy.js'
import { claimDeployRoot } from './deploy-root-claim.js'
import { reportDiagnosis, type Evidence } from './diagnose.js'
import { asError, InputError, PhaseError } from './errors.js'
import { Appcmd } from './iis/appcmd.js'
import { acquireLock, type TargetLock } from './iis/lock.js'
import { refuseSharedPool } from './iis/pool-sharing.js'
import { readStateAt, type CurrentState } from './iis/state.js'
import { requireProgram } from './inputs/programs.js'
import { layoutFor } from './layout.js'
import { coreLog, type Log } from './log.js'
import { Phases } from './phases.js'
import { desiredState, stateQuery, type StageFacts } from './plan/desired.js'
import type { PlanDocument } from './plan/plan-file.js'
import { deployPlanFor, planDocument, settingsFromSource, writeOutputFiles, writePlan } from './plan/plan-output.js'
import { doctorMode } from './doctor/doctor.js'
import { recordRun } from './history/record.js'
import { recoverInRun } from './journal/run-hook.js'
import { describeStaticLocation } from './plan/static-location.js'
import { execRunner, type ProcessRunner } from './process.js'
import type { Interpreter } from './python/interpreter.js'
import { interpreterCacheFile, probeInterpreterCached } from './python/interpreter-cache.js'
import { DISK_FULL_HINT } from './python/venv.js'
import { renderReleaseConfigs } from './render/release-configs.js'
import { TemplateSet, type TemplateName } from './render/templates.js'
import { emptyReport, setOutputs, writeSummary, type OutputSetter, type RunReport, type SummaryWriter } from './report.js'
import { planShibboleth } from './shibboleth/plan.js'
import { shibbolethTarget } from './shibboleth/target.js'
import { computeVenvHash, factsFor, stageRelease } from './stage.js'
import { urlCredentials, withoutCredentials } from './verify/url-credentials.js'

/** Everything run() touches outside itself, so tests and the demo can drive the real flow. */
export interface RunDeps {
  inputs: InputReader
  env: NodeJS.ProcessEnv
  cwd: string
  runner: ProcessRunner
  log: Log
  setOutput: OutputSetter
  summary: SummaryWriter
  setFailed: (message: string) => void
}

export function actionDeps(): RunDeps {
  return {
    inputs: actionInputs,
    env: process.env,
    cwd: process.cwd(),
    runner: execRunner,
    log: coreLog(),
    setOutput: core.setOutput,
    summary: core.summary,
    setFailed: core.setFailed
  }
}

const TEMPLATES: Record<DeployConfig['hosting'], TemplateName[]> = {
  fastcgi: ['app-web.config', 'static-web.config'],
  httpplatform: ['httpplatform-web.config', 'static-web.config']
}

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
async function serverStateForPlan(deps: RunDeps, config: DeployConfig): Promise<CurrentState | undefined> {
  const found = findProgram(config.appcmd, deps.env)
  if (!found) {
    deps.log.info(`${config.appcmd} is not on this machine: planning against an empty server (no app, pool or grants yet).`)
    return undefined
  }
  const appcmd = new Appcmd({ runner: deps.runner, log: deps.log, path: found })
  const current = await readStateAt(appcmd, stateQuery(config), layoutFor(config.deployRoot).root)
  deps.log.info(`Planned against the IIS state read from this server with ${config.appcmd}.`)
  return current
}

async function planMode(
  deps: RunDeps,
  config: DeployConfig,
  interpreter: Interpreter,
  templates: TemplateSet,
  report: RunReport,
  phases: Phases
): Promise<void> {
  const { log } = deps
  await phases.run('Plan', async () => {
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
    const current = await serverStateForPlan(deps, config)
    let shibboleth: PlanDocument['shibboleth']
    let sp: ReturnType<typeof planShibboleth> | undefined
    if (config.shibboleth.enabled) {
      // Without IIS to read, the site id is the one of a default server's first site.
      sp = planShibboleth(shibbolethTarget(config, current?.site.id ?? 1), config.outputDir, templates)
      files.push({ path: sp.outputPath, status: 'written' })
      shibboleth = { file: config.shibboleth.configPath, changed: sp.changed, diff: sp.diff }
      if (!current) log.info('Shibboleth: ISAPI Site id 1 assumed (no IIS state was read); deploy mode uses the id IIS reports.')
    }
    const plan = { ...planDocument(config, facts.releaseId, deployPlanFor(config, desired, current, sp), files), shibboleth }
    report.planPath = writePlan(config, log, plan)
    report.files = files
    log.info(`Rendered files and plan.json are in ${config.outputDir}`)
  })
}

/**
 * One run of the action: inputs → (deploy: read IIS) → stage → plan → apply → verify → report. Never throws: every failure becomes
 * one error line (and a diagnosis where one helps), and the summary and outputs are written whatever happened.
 */
export async function run(deps: RunDeps = actionDeps()): Promise<void> {
  const { log } = deps
  const phases = new Phases(log)
  const report = emptyReport()
  let lock: TargetLock | undefined
  let serverLock: TargetLock | undefined
  let config: DeployConfig | undefined
  try {
    config = getInputs(deps.inputs, deps.env, deps.cwd)
    const cfg = config
    for (const v of cfg.env) if (v.secret) log.secret(v.value)
    if (cfg.poolAccount?.password) log.secret(cfg.poolAccount.password)
    for (const url of [cfg.verify.url, ...cfg.verify.extraUrls]) for (const part of urlCredentials(url)) log.secret(part)
    Object.assign(report, {
      mode: cfg.mode,
      target: { site: cfg.siteName, appPath: cfg.appPath, pool: cfg.appPool, deployRoot: cfg.deployRoot },
      releaseId: cfg.releaseId,
      url: withoutCredentials(cfg.verify.url),
      insecureTls: cfg.verify.insecure
    })
    if (cfg.mode === 'doctor') return await doctorMode(deps, cfg, report)
    const templates = new TemplateSet(cfg.templatesDir)
    templates.checkAll([...TEMPLATES[cfg.hosting], ...(cfg.shibboleth.enabled ? (['shibboleth2.xml'] as const) : [])])
    if (cfg.mode === 'deploy') {
      await requireProgram('appcmd', cfg.appcmd)
      await requireProgram('icacls', cfg.icacls)
    }
    // Plan mode writes nothing under deploy-root, so it reads the cache but never fills it.
    const probe = await probeInterpreterCached(deps.runner, cfg.python, interpreterCacheFile(layoutFor(cfg.deployRoot).root))
    const interpreter = probe.interpreter
    log.info(`Python ${interpreter.version} at ${interpreter.executable}${probe.cached ? ' (unchanged since its last probe)' : ''}`)
    if (cfg.mode !== 'plan') {
      // A template that renders malformed XML for this run's values stops it now, not after the venv is built.
      // STATIC_URL is judged once Django is read (stage); the trial only needs a valid static location.
      const neutralStatic = { staticUrl: 'static/', forceScriptName: null }
      const trial = factsFor(
        interpreter,
        cfg.releaseId,
        computeVenvHash(cfg, interpreter),
        settingsFromSource(cfg).wsgiApplication,
        neutralStatic
      )
      renderReleaseConfigs(templates, cfg, desiredState(cfg, trial), trial)
    }

    if (cfg.mode === 'plan') {
      await planMode(deps, cfg, interpreter, templates, report, phases)
      return
    }

    const layout = layoutFor(cfg.deployRoot)
    // One deploy-root, one app: another app's run is refused here, before it writes anything there.
    claimDeployRoot(layout.root, { site: cfg.siteName, appPath: cfg.appPath })
    probe.remember()
    // One run per target from staging to verify: two runs must not build the same venv or switch in between.
    lock = await acquireLock({
      dir: layout.root,
      site: cfg.siteName,
      appPath: cfg.appPath,
      runId: cfg.releaseId,
      timeoutMs: cfg.lockTimeoutMs,
      log
    })

    if (cfg.mode === 'deploy') {
      // applicationHost.config is one file for the whole server, and a rollback restores all of it: deploys of
      // other apps on this server must not land between this run's backup and its verify.
      serverLock = await acquireLock({
        dir: cfg.lockDir,
        site: 'IIS',
        appPath: '/applicationHost.config',
        runId: cfg.releaseId,
        timeoutMs: cfg.lockTimeoutMs,
        log
      })
      // Before anything else under both locks: a run that stopped unfinished is undone first (src/journal/).
      await recoverInRun(deps, cfg, report)
    }
    // Deploy reads IIS first (under the lock): a missing site stops the run before anything is built, and the
    // preflight sends the Host that the site's binding will.
    let current: CurrentState | undefined
    let target = cfg
    if (cfg.mode === 'deploy') {
      const appcmd = new Appcmd({ runner: deps.runner, log, path: cfg.appcmd })
      current = await phases.run('Read IIS', () => readStateAt(appcmd, stateQuery(cfg), layout.root))
      await refuseSharedPool(appcmd, cfg, current)
      target = withBindingUrl(cfg, current, log)
      report.url = withoutCredentials(target.verify.url)
    }
    const stageConfig = target
    const stage = await phases.run('Stage', () => stageRelease({ runner: deps.runner, log, templates }, stageConfig, interpreter), false)
    report.releaseId = stage.facts.releaseId
    report.changed = !stage.releaseReused
    report.releaseBuilt = !stage.releaseReused
    fs.mkdirSync(cfg.outputDir, { recursive: true })
    report.files = writeOutputFiles(cfg.outputDir, stage.configs)
    for (const w of stage.checkWarnings) report.warnings.push(`${w.id}: ${w.message}`)

    if (cfg.mode === 'stage') {
      const plan = deployPlanFor(cfg, stage.desired, undefined)
      report.planPath = writePlan(cfg, log, planDocument(cfg, stage.facts.releaseId, plan, report.files))
      log.info(`Release ${stage.facts.releaseId} staged in ${stage.releaseDir}; nothing was changed in IIS (mode: stage).`)
      return
    }

    if (!current) throw new Error('deploy mode reached apply without reading IIS')
    const sp = target.shibboleth.enabled
      ? planShibboleth(shibbolethTarget(target, current.site.id), target.outputDir, templates)
      : undefined
    // The plan a deploy shows is the plan it runs: built once, here, and handed to apply.
    const plan = deployPlanFor(target, stage.desired, current, sp)
    const shown = planDocument(target, stage.facts.releaseId, plan, report.files)
    report.planPath = writePlan(
      target,
      log,
      sp ? { ...shown, shibboleth: { file: target.shibboleth.configPath, changed: sp.changed, diff: sp.diff } } : shown
    )
    const { reverified } = await deployMode(deps, target, stage, current, plan, templates, report, phases)
    log.info(
      report.changed
        ? `Release ${stage.facts.releaseId} is live at ${report.url}`
        : reverified
          ? `Release ${stage.facts.releaseId} was live without a verify; it passed verify now at ${report.url}`
          : `Nothing changed: release ${stage.facts.releaseId} was already live and verified at ${report.url}`
    )
  } catch (thrown) {
    const error = asError(thrown)
    report.error = log.redact(error.message)
    if (error instanceof PhaseError && error.rolledBack) report.rolledBack = true
    if (error instanceof InputError) {
      // Bad input: one line naming the input and the fix, nothing else.
      deps.setFailed(log.redact(error.message))
    } else {
      if (error instanceof PhaseError && error.phase !== 'verify') {
        // Verify printed its own diagnosis with the responses; other phases have their output to go on.
        const evidence: Evidence =
          error.phase === 'preflight' ? { preflightOutput: error.message, detail: error.hint } : { detail: error.message }
        report.hints = await reportDiagnosis(log, [evidence])
      }
      const why = error instanceof PhaseError ? error.hint : (error as NodeJS.ErrnoException).code === 'ENOSPC' ? DISK_FULL_HINT : undefined
      const hint = why ? ` Hint: ${why}` : ''
      if (!(error instanceof PhaseError)) log.debug(error.stack ?? '')
      deps.setFailed(log.redact(`${error.message}${hint}`))
    }
  } finally {
    // Under the target's lock, so two runs' entries never interleave; a run stopped before the lock changed nothing.
    if (lock && config?.mode === 'deploy') recordRun(report, deps.env, log)
    serverLock?.release()
    lock?.release()
    report.phases = phases.list
    setOutputs(report, deps.setOutput)
    await writeSummary(report, deps.summary, { redact: text => log.redact(text), log })
  }
}
