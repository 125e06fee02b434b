/** One run's context: the config resolved once, the layout computed once, and what each step learnt. */
import * as core from '../workflow-commands.js'
import { actionInputs, type DeployConfig, type InputReader } from '../config.js'
import type { Hint } from '../diagnose.js'
import type { Finding } from '../doctor/findings.js'
import type { ApplyResult } from '../iis/apply.js'
import type { PendingMigrations } from '../migrations/pending.js'
import type { DatabaseChange } from '../migrations/run.js'
import type { JournalRecorder } from '../journal/recorder.js'
import type { TargetLock } from '../iis/lock.js'
import type { CurrentState } from '../iis/state.js'
import { layoutFor, type Layout } from '../layout.js'
import { coreLog, type Log } from '../log.js'
import { Phases } from '../phases.js'
import type { DeployPlan } from '../plan/build.js'
import { execRunner, type ProcessRunner } from '../process.js'
import type { CachedProbe } from '../python/interpreter-cache.js'
import type { Interpreter } from '../python/interpreter.js'
import { TemplateSet } from '../render/templates.js'
import type { OutputSetter, RunReport, SummaryWriter } from '../report.js'
import type { ShibbolethApplied } from '../shibboleth/apply.js'
import type { ShibbolethPlan } from '../shibboleth/plan.js'
import type { RestorePoint } from '../iis/restore-point.js'
import type { StageResult } from '../stage.js'
import type { ReleaseMeta } from '../releases.js'
import type { UrlCheckResult } from '../verify/checks.js'

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

/** What undoing a failed deploy put back: decides the report's rolled-back (src/flow/outcome.ts). */
export interface Restored {
  ok: boolean
  restoredAnything: boolean
}

/** A read of IIS under way, and its log lines held back until the result is taken. */
export interface IisRead {
  read: Promise<{ current: CurrentState }>
  flush: () => void
  /** The result taken (src/flow/iis-read.ts, iisReadDone). */
  done?: Promise<void>
}

export interface RunContext {
  readonly deps: RunDeps
  readonly log: Log
  readonly runner: ProcessRunner
  readonly phases: Phases
  /** The inputs, resolved once; Read IIS fills in the verify URL from the site's binding when verify-url is empty. */
  config: DeployConfig
  readonly layout: Layout
  readonly templates: TemplateSet
  probe?: CachedProbe
  interpreter?: Interpreter
  /** Held until the run ends, released last first. */
  locks: TargetLock[]
  /** The target's own lock is held: the run may write under deploy-root and record its history. */
  targetLocked: boolean
  current?: CurrentState
  /** Read IIS running beside the stage (src/flow/iis-read.ts): the stage takes its result with iisReadDone. */
  iisRead?: IisRead
  /** The listing of a reused release's unapplied migrations, started by the stage beside the IIS read. */
  listing?: Promise<PendingMigrations | undefined>
  /**
   * The current state with its fastCgi section settled (src/iis/fastcgi-record.ts), started once the release is
   * staged so that its read runs beside the migrations listing; Plan awaits it.
   */
  settled?: Promise<CurrentState>
  stage?: StageResult
  /** The IIS backup taken beside the release check (src/iis/restore-point.ts); main deletes it when unused. */
  restorePoint?: RestorePoint
  sp?: ShibbolethPlan
  plan?: DeployPlan
  planPath: string
  files: RunReport['files']
  shibboleth?: ShibbolethApplied
  recycledPools?: string[]
  /** A release IIS serves that never passed verify (src/unverified-release.ts). */
  unverified?: ReleaseMeta
  applied?: ApplyResult
  /** This run's journal while apply and verify run (src/journal/). */
  journal?: JournalRecorder
  /** What the recovery of an interrupted earlier run did (src/journal/recover.ts). */
  recovery?: RunReport['recovery']
  checks: UrlCheckResult[]
  /** The checks of the release on the temporary site before the switch (src/flow/pre-switch.ts). */
  preSwitchChecks?: UrlCheckResult[]
  rollback?: RunReport['rollback']
  restored?: Restored
  /** The release was already live but unverified, and passed verify now. */
  reverified: boolean
  doctor?: Finding[]
  /** mode: rollback fills a report of its own (src/rollback/mode.ts); the run's report starts from it. */
  onDemand?: RunReport
  warnings: string[]
  hints: Hint[]
  /** The migrations the new release would apply (src/flow/database-steps.ts). */
  pendingMigrations?: PendingMigrations
  /** What migrate and the release commands did to the database. */
  database?: DatabaseChange
}

export function contextFor(deps: RunDeps, config: DeployConfig, phases: Phases = new Phases(deps.log)): RunContext {
  return {
    deps,
    log: deps.log,
    runner: deps.runner,
    phases,
    config,
    layout: layoutFor(config.deployRoot),
    templates: new TemplateSet(config.templatesDir),
    locks: [],
    targetLocked: false,
    planPath: '',
    files: [],
    checks: [],
    reverified: false,
    warnings: [],
    hints: []
  }
}

/** Says `message` as a warning and keeps it for the summary. */
export function warn(ctx: RunContext, message: string): void {
  ctx.log.warning(message)
  ctx.warnings.push(message)
}
