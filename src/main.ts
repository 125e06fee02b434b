import * as core from '@actions/core'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { actionInputs, getInputs, type DeployConfig, type InputReader } from './config.js'
import { evidenceFromChecks, reportDiagnosis, tailFile, type Evidence } from './diagnose.js'
import { asError, InputError, PhaseError } from './errors.js'
import { planAcl } from './iis/acl.js'
import { applyRelease, type ApplyResult } from './iis/apply.js'
import { Appcmd } from './iis/appcmd.js'
import { acquireLock, type TargetLock } from './iis/lock.js'
import { readState, type CurrentState } from './iis/state.js'
import { UnlockRecord } from './iis/unlock-record.js'
import { layoutFor, pathApi } from './layout.js'
import { coreLog, type Log } from './log.js'
import { desiredState, locationOf, STATIC_VDIR, stateQuery, type StageFacts } from './plan/desired.js'
import { planChanges } from './plan/diff.js'
import { planJson, planText, type PlanDocument } from './plan/plan-file.js'
import type { DesiredState, Operation } from './plan/types.js'
import { execRunner, type ProcessRunner } from './process.js'
import { probeInterpreter, type Interpreter } from './python/interpreter.js'
import { markRelease, previousRelease, pruneReleases, readRelease } from './releases.js'
import { writeFileAtomic } from './render/atomic-write.js'
import { renderReleaseConfigs, type RenderedFile } from './render/release-configs.js'
import { TemplateSet, type TemplateName } from './render/templates.js'
import { setOutputs, writeSummary, type OutputSetter, type RunReport, type SummaryWriter } from './report.js'
import { applyShibboleth, type ShibbolethApplied, type ShibbolethTarget } from './shibboleth/apply.js'
import { planShibboleth } from './shibboleth/plan.js'
import { computeVenvHash, factsFor, stageRelease, type StageResult } from './stage.js'
import { urlFromBindings } from './verify/binding-url.js'
import { pickStaticFile, runChecks, staticUrl, verifyPlan, contentTypeFor, type CheckResult } from './verify/checks.js'

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

/** Times each phase for the summary; a phase that throws is recorded as failed. */
class Phases {
  readonly list: RunReport['phases'] = []
  constructor(private readonly log: Log) {}

  async run<T>(name: string, fn: () => Promise<T>, grouped = true): Promise<T> {
    const started = performance.now()
    let ok = false
    try {
      const result = grouped ? await this.log.group(name, fn) : await fn()
      ok = true
      return result
    } finally {
      this.list.push({ name, ms: Math.round(performance.now() - started), ok })
    }
  }
}

function emptyReport(): RunReport {
  return {
    mode: 'deploy',
    target: { site: '', appPath: '', pool: '', deployRoot: '' },
    releaseId: '',
    url: '',
    planPath: '',
    changed: false,
    rolledBack: false,
    objects: [],
    files: [],
    phases: [],
    checks: [],
    hints: [],
    warnings: []
  }
}

/** Django's WSGI_APPLICATION as the settings file writes it, for plan mode, which builds no venv to ask Django. */
export function wsgiApplicationFromSource(config: DeployConfig): string {
  const file = path.join(config.appDir, ...config.settingsModule.split('.')) + '.py'
  try {
    return /^WSGI_APPLICATION\s*=\s*['"]([\w.]+)['"]/m.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? ''
  } catch {
    return ''
  }
}

function shibbolethTarget(config: DeployConfig, siteId: number): ShibbolethTarget {
  return {
    configPath: config.shibboleth.configPath,
    want: { siteId, host: config.shibboleth.host, appPath: config.appPath, remoteUser: config.shibboleth.remoteUser },
    check: config.shibboleth.check,
    service: config.shibboleth.service
  }
}

/** Operations for the plan: appcmd diff (against the server when it was read), ACLs, Shibboleth. */
function planOperations(config: DeployConfig, desired: DesiredState, current: CurrentState | undefined, extra: Operation[]): Operation[] {
  const changes = planChanges(current, desired)
  const layout = layoutFor(config.deployRoot)
  const acl = planAcl(layout.root, desired.pool.name, desired.acl, desired.hosting === 'fastcgi' ? layout.wsgiLog : undefined)
  // The order apply runs them in: the SP config (checked before IIS is touched), the pool, grants, the rest.
  return [...extra, ...changes.pool, ...acl.operations, ...changes.beforeSwitch, ...(changes.switchOp ? [changes.switchOp] : []), ...changes.afterSwitch]
}

function writeOutputFiles(outputDir: string, configs: RenderedFile[]): RunReport['files'] {
  return configs.map(file => {
    const target = path.join(outputDir, ...file.relPath.split('/'))
    return { path: target, status: writeFileAtomic(target, file.content) ? ('written' as const) : ('unchanged' as const) }
  })
}

function writePlan(config: DeployConfig, log: Log, plan: PlanDocument): string {
  const file = path.join(config.outputDir, 'plan.json')
  writeFileAtomic(file, planJson(plan, log.redact))
  log.info(planText(plan, log.redact))
  return file
}

function planDocument(config: DeployConfig, releaseId: string, operations: Operation[], files: RunReport['files'], diffed: boolean): PlanDocument {
  return {
    target: { site: config.siteName, appPath: config.appPath, pool: config.appPool, deployRoot: config.deployRoot, hosting: config.hosting },
    mode: config.mode,
    release: releaseId,
    diffedAgainstServer: diffed,
    operations,
    files
  }
}

/** Where runs on one server meet to take turns with IIS: machine-wide, not under any one app's deploy-root. */
export function serverLockDir(env: NodeJS.ProcessEnv): string {
  return process.platform === 'win32'
    ? path.join(env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData', 'django-iis-deploy')
    : path.join(os.tmpdir(), 'django-iis-deploy')
}

/** A program the deploy needs must exist before anything is staged, so a runner without IIS fails at once. */
function requireProgram(input: string, program: string, env: NodeJS.ProcessEnv): void {
  const hasDir = /[\\/]/.test(program)
  if (hasDir) {
    if (fs.existsSync(program)) return
  } else {
    const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean)
    const exts = process.platform === 'win32' ? ['', '.exe', '.cmd', '.bat'] : ['']
    if (dirs.some(d => exts.some(e => fs.existsSync(path.join(d, program + e))))) return
  }
  throw new InputError(input, `${program} was not found on this machine; deploy mode needs IIS (with ${input}) on the runner, or use mode: stage or plan`)
}

async function planMode(deps: RunDeps, config: DeployConfig, interpreter: Interpreter, templates: TemplateSet, report: RunReport, phases: Phases): Promise<void> {
  const { log } = deps
  await phases.run('Plan', async () => {
    const facts: StageFacts = factsFor(interpreter, config.releaseId, computeVenvHash(config, interpreter), wsgiApplicationFromSource(config))
    const desired = desiredState(config, facts)
    fs.mkdirSync(config.outputDir, { recursive: true })
    const files = writeOutputFiles(config.outputDir, renderReleaseConfigs(templates, config, desired, facts))
    const extra: Operation[] = []
    let shibboleth: PlanDocument['shibboleth']
    if (config.shibboleth.enabled) {
      // No IIS is read in plan mode: the site id is the one of a default server's first site.
      const sp = planShibboleth(shibbolethTarget(config, 1), config.outputDir, templates)
      extra.push(...sp.operations)
      files.push({ path: sp.outputPath, status: 'written' })
      shibboleth = { file: config.shibboleth.configPath, changed: sp.changed, diff: sp.diff }
      log.info('Shibboleth: ISAPI Site id 1 assumed (plan mode reads no IIS state); deploy mode uses the id IIS reports.')
    }
    const plan = { ...planDocument(config, facts.releaseId, planOperations(config, desired, undefined, extra), files, false), shibboleth }
    report.planPath = writePlan(config, log, plan)
    report.files = files
    log.info(`Rendered files and plan.json are in ${config.outputDir}`)
  })
}

interface DeployOutcome {
  applied?: ApplyResult
  shibboleth?: ShibbolethApplied
}

function verifyTargets(config: DeployConfig, staticFiles: readonly string[]): Parameters<typeof verifyPlan>[1] {
  const sso = config.shibboleth.enabled
  const file = pickStaticFile([...staticFiles])
  return {
    // Static files live under the protected path too, so with SSO they redirect like the app does.
    ...(file && !sso ? { staticFile: { url: staticUrl(config.verify.url, STATIC_VDIR, file), expectedContentType: contentTypeFor(file) } } : {}),
    ...(sso ? { protectedPath: { url: config.verify.url } } : {})
  }
}

/** `staticFiles` are those of the release being checked: after a rollback, the restored one's. */
async function verify(deps: RunDeps, config: DeployConfig, staticFiles: readonly string[], title: string): Promise<CheckResult[]> {
  return deps.log.group(title, () => runChecks(verifyPlan(config.verify, verifyTargets(config, staticFiles)), deps.log))
}

/** Restores the SP config, reporting instead of throwing, so the IIS rollback's own result is never lost. */
async function restoreShibboleth(applied: ShibbolethApplied, log: Log): Promise<string | undefined> {
  try {
    await applied.restore()
    return undefined
  } catch (error) {
    const message = `shibboleth2.xml (${asError(error).message})`
    log.error(`Could not restore ${message}`)
    return message
  }
}

/** The collected files of the release a physical path serves, from its manifest; none when it is not ours. */
function staticFilesAt(physicalPath: string | undefined): string[] {
  if (!physicalPath) return []
  const manifest = path.join(physicalPath, 'release.json')
  try {
    const files = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { staticFiles?: unknown }).staticFiles
    return Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string') : []
  } catch {
    return []
  }
}

function serverEvidence(config: DeployConfig, checks: CheckResult[]): Evidence[] {
  const layout = layoutFor(config.deployRoot)
  const logs = config.hosting === 'fastcgi' ? { wsgiLogTail: tailFile(layout.wsgiLog) } : {}
  return evidenceFromChecks(checks, { ...logs, hostHeader: config.verify.hostHeader || undefined })
}

/** With verify-url empty, the URL (and the SSO host that follows it) comes from the site's first http(s) binding. */
function withBindingUrl(config: DeployConfig, current: CurrentState, log: Log): DeployConfig {
  if (!config.verify.urlFromBinding) return config
  const url = urlFromBindings(current.site.bindings, config.appPath)
  if (!url) {
    log.warning(`Site ${config.siteName} has no http or https binding; verifying ${config.verify.url}. Set verify-url to check another address.`)
    return config
  }
  log.info(`verify-url not set: checking ${url}, from the site's binding`)
  const host = config.shibboleth.hostFromVerifyUrl ? new URL(url).hostname : config.shibboleth.host
  return { ...config, verify: { ...config.verify, url }, shibboleth: { ...config.shibboleth, host } }
}

async function deployMode(
  deps: RunDeps,
  config: DeployConfig,
  stage: StageResult,
  current: CurrentState,
  templates: TemplateSet,
  report: RunReport,
  phases: Phases
): Promise<void> {
  const { log, runner } = deps
  const outcome: DeployOutcome = {}
  const layout = layoutFor(config.deployRoot)

  if (config.shibboleth.enabled) {
    // Before IIS: a config the SP's own check rejects is restored and stops the run with IIS untouched.
    outcome.shibboleth = await phases.run('Shibboleth', () =>
      applyShibboleth({ ...shibbolethTarget(config, current.site.id), runner, log, templates })
    )
    report.shibboleth = { changed: outcome.shibboleth.changed, restarted: outcome.shibboleth.changed }
  }

  try {
    outcome.applied = await phases.run('Apply', () =>
      applyRelease({ runner, log, appcmdPath: config.appcmd, icaclsPath: config.icacls }, { config, desired: stage.desired, lockHeld: true, current })
    )
  } catch (error) {
    // IIS was restored by apply itself; the SP config changed before it must follow.
    if (outcome.shibboleth?.changed) report.rolledBack = (await restoreShibboleth(outcome.shibboleth, log)) === undefined
    throw error
  }
  const applied = outcome.applied
  report.objects = applied.objects
  report.changed = report.changed || applied.changed || Boolean(outcome.shibboleth?.changed)

  const checks = await phases.run('Verify', () => verify(deps, config, stage.staticFiles, 'Verify'), false)
  report.checks = checks
  if (checks.every(c => c.ok)) {
    // The release is live and verified: housekeeping that fails (a file held open on Windows) only warns.
    try {
      if (readRelease(layout, stage.facts.releaseId)?.state !== 'live') markRelease(layout, stage.facts.releaseId, 'live')
      const previous = previousRelease(layout, stage.facts.releaseId)
      const pruned = pruneReleases(layout, config.keepReleases, stage.facts.releaseId, previous?.id)
      if (pruned.removedReleases.length > 0) log.info(`Removed old releases: ${pruned.removedReleases.join(', ')}`)
      if (pruned.removedVenvs.length > 0) log.info(`Removed unused venvs: ${pruned.removedVenvs.join(', ')}`)
    } catch (error) {
      const message = `release ${stage.facts.releaseId} is live, but cleaning up old releases failed: ${asError(error).message}`
      log.warning(message)
      report.warnings.push(message)
    }
    return
  }

  // Verify failed: put the previous state back, prove it, then fail with both results.
  report.hints = await reportDiagnosis(log, serverEvidence(config, checks))
  const failedChecks = checks.filter(c => !c.ok).map(c => `${c.name}: ${c.detail}`).join('; ')
  const rollback = await phases.run('Rollback', async () => {
    const rb = await applied.rollback()
    if (outcome.shibboleth?.changed) {
      const failed = await restoreShibboleth(outcome.shibboleth, log)
      if (failed) rb.failed.push(failed)
      else rb.restored.push('shibboleth2.xml')
      rb.ok = rb.ok && !failed
    }
    return rb
  })
  const restoredAnything = applied.changed || Boolean(outcome.shibboleth?.changed)
  report.rolledBack = restoredAnything && rollback.ok
  const detail = rollback.ok ? rollback.restored.join('; ') || 'nothing needed restoring' : `NOT restored: ${rollback.failed.join('; ')}`
  const previousStatic = staticFilesAt(applied.previousPhysicalPath)
  const again = restoredAnything ? await phases.run('Verify restored release', () => verify(deps, config, previousStatic, 'Verify restored release'), false) : []
  report.rollback = { ok: rollback.ok, detail, checks: again }
  // A release that was already live before this run stays as it was: this run did not make it so.
  if (applied.changed) markRelease(layout, stage.facts.releaseId, 'failed')
  const restoredState = again.length === 0 ? '' : again.every(c => c.ok) ? ' The restored release passes verify.' : ' The restored release fails verify too.'
  throw new PhaseError('verify', `verify failed (${failedChecks}); rolled back: ${detail}.${restoredState}`)
}

/**
 * One run of the action: inputs → plan → stage → apply → verify → report. Never throws: every failure becomes
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
    Object.assign(report, {
      mode: cfg.mode,
      target: { site: cfg.siteName, appPath: cfg.appPath, pool: cfg.appPool, deployRoot: cfg.deployRoot },
      releaseId: cfg.releaseId,
      url: cfg.verify.url,
      insecureTls: cfg.verify.insecure
    })
    const templates = new TemplateSet(cfg.templatesDir)
    templates.checkAll([...TEMPLATES[cfg.hosting], ...(cfg.shibboleth.enabled ? (['shibboleth2.xml'] as const) : [])])
    if (cfg.mode === 'deploy') {
      requireProgram('appcmd', cfg.appcmd, deps.env)
      requireProgram('icacls', cfg.icacls, deps.env)
    }
    const interpreter = await probeInterpreter(deps.runner, cfg.python)
    log.info(`Python ${interpreter.version} at ${interpreter.executable}`)

    if (cfg.mode === 'plan') {
      await planMode(deps, cfg, interpreter, templates, report, phases)
      return
    }

    const layout = layoutFor(cfg.deployRoot)
    fs.mkdirSync(layout.root, { recursive: true })
    // One run per target from staging to verify: two runs must not build the same venv or switch in between.
    lock = await acquireLock({ dir: layout.root, site: cfg.siteName, appPath: cfg.appPath, runId: cfg.releaseId, timeoutMs: cfg.lockTimeoutMs, log })

    if (cfg.mode === 'deploy') {
      // applicationHost.config is one file for the whole server, and a rollback restores all of it: deploys of
      // other apps on this server must not land between this run's backup and its verify.
      serverLock = await acquireLock({ dir: serverLockDir(deps.env), site: 'IIS', appPath: '/applicationHost.config', runId: cfg.releaseId, timeoutMs: cfg.lockTimeoutMs, log })
    }
    // Deploy reads IIS first (under the lock): a missing site stops the run before anything is built, and the
    // preflight sends the Host that the site's binding will.
    let current: CurrentState | undefined
    let target = cfg
    if (cfg.mode === 'deploy') {
      const appcmd = new Appcmd({ runner: deps.runner, log, path: cfg.appcmd })
      const record = UnlockRecord.read(layout.root)
      const location = locationOf(cfg)
      current = await phases.run('Read IIS', () => readState(appcmd, stateQuery(cfg), record.has(location), record.httpPlatformNames(location)))
      target = withBindingUrl(cfg, current, log)
      report.url = target.verify.url
    }
    const stageConfig = target
    const stage = await phases.run('Stage', () => stageRelease({ runner: deps.runner, log, templates }, stageConfig, interpreter), false)
    report.releaseId = stage.facts.releaseId
    report.changed = !stage.releaseReused
    fs.mkdirSync(cfg.outputDir, { recursive: true })
    report.files = writeOutputFiles(cfg.outputDir, stage.configs)
    for (const w of stage.checkWarnings) report.warnings.push(`${w.id}: ${w.message}`)

    if (cfg.mode === 'stage') {
      const operations = planOperations(cfg, stage.desired, undefined, [])
      report.planPath = writePlan(cfg, log, planDocument(cfg, stage.facts.releaseId, operations, report.files, false))
      log.info(`Release ${stage.facts.releaseId} staged in ${stage.releaseDir}; nothing was changed in IIS (mode: stage).`)
      return
    }

    if (!current) throw new Error('deploy mode reached apply without reading IIS')
    const sp = target.shibboleth.enabled ? planShibboleth(shibbolethTarget(target, current.site.id), target.outputDir, templates) : undefined
    const plan = planDocument(target, stage.facts.releaseId, planOperations(target, stage.desired, current, sp?.operations ?? []), report.files, true)
    report.planPath = writePlan(target, log, sp ? { ...plan, shibboleth: { file: target.shibboleth.configPath, changed: sp.changed, diff: sp.diff } } : plan)
    await deployMode(deps, target, stage, current, templates, report, phases)
    log.info(
      report.changed
        ? `Release ${stage.facts.releaseId} is live at ${report.url}`
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
        const evidence: Evidence = error.phase === 'preflight' ? { preflightOutput: error.message, detail: error.hint } : { detail: error.message }
        report.hints = await reportDiagnosis(log, [evidence])
      }
      const hint = error instanceof PhaseError && error.hint ? ` Hint: ${error.hint}` : ''
      if (!(error instanceof PhaseError)) log.debug(error.stack ?? '')
      deps.setFailed(log.redact(`${error.message}${hint}`))
    }
  } finally {
    serverLock?.release()
    lock?.release()
    report.phases = phases.list
    setOutputs(report, deps.setOutput)
    await writeSummary(report, deps.summary, { redact: log.redact, log })
  }
}

export { pathApi }
