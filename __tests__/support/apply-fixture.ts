import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { getInputs, type DeployConfig } from '../../src/config.js'
import { desiredState, type StageFacts } from '../../src/plan/desired.js'
import type { StaticSettings } from '../../src/plan/static-location.js'
import type { DesiredState } from '../../src/plan/types.js'
import { applyPlan, type ApplyDeps, type ApplyResult, type StepObserver } from '../../src/iis/apply.js'
import { Appcmd } from '../../src/iis/appcmd.js'
import { acquireLock } from '../../src/iis/lock.js'
import { readStateAt } from '../../src/iis/state.js'
import { settleFastCgi } from '../../src/iis/fastcgi-record.js'
import type { DeployPlan, PlanInput } from '../../src/plan/build.js'
import { deployPlanFor } from '../../src/plan/plan-output.js'
import type { ProcessRunner } from '../../src/process.js'
import { layoutFor } from '../../src/layout.js'
import { countingRunner, type CountingRunner } from './counting-runner.js'
import { createIisSandbox, sandboxRunner, type IisSandbox } from './iis-sandbox.js'
import { captureLog, type CapturedLog } from './iis-test-log.js'
import { EXAMPLE_APP } from './run-action.js'

export const SECRET = 'tok-Zq81-very-secret'

export interface Target {
  sandbox: IisSandbox
  deployRoot: string
  pythonHome: string
  /** The server-wide lock folder (lock-dir), private to this target: the backup record lives there too. */
  lockDir: string
  runner: CountingRunner
  log: CapturedLog
  cleanup(): void
}

/** A fake IIS server (appcmd/icacls doubles) and an empty deploy-root beside it. */
export function createTarget(): Target {
  const sandbox = createIisSandbox()
  const deployRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-root-'))
  const pythonHome = fs.mkdtempSync(path.join(os.tmpdir(), 'python-home-'))
  const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'server-lock-'))
  return {
    sandbox,
    deployRoot,
    pythonHome,
    lockDir,
    runner: countingRunner(sandboxRunner(sandbox)),
    log: captureLog(),
    cleanup: () => {
      sandbox.cleanup()
      fs.rmSync(deployRoot, { recursive: true, force: true })
      fs.rmSync(pythonHome, { recursive: true, force: true })
      fs.rmSync(lockDir, { recursive: true, force: true })
    }
  }
}

export function configFor(target: Target, releaseId: string, inputs: Record<string, string> = {}): DeployConfig {
  const all: Record<string, string> = {
    'app-dir': EXAMPLE_APP,
    'deploy-root': target.deployRoot,
    'app-path': '/app',
    'release-id': releaseId,
    env: 'GREETING=hello\nFEATURE_X=on',
    'secret-env': `API_TOKEN=${SECRET}`,
    'lock-timeout': '30',
    'lock-dir': target.lockDir,
    ...inputs
  }
  return getInputs(name => all[name] ?? '', {}, EXAMPLE_APP)
}

/** A staged release as apply expects it: the release folder with its web.config and static folder, and the venv folder. */
export function stage(
  target: Target,
  config: DeployConfig,
  venvHash = 'venv1',
  staticSettings: StaticSettings = { staticUrl: 'static/', forceScriptName: null }
): DesiredState {
  const layout = layoutFor(config.deployRoot)
  fs.mkdirSync(layout.staticDir(config.releaseId), { recursive: true })
  fs.writeFileSync(path.join(layout.releaseDir(config.releaseId), 'web.config'), '<configuration />\n')
  fs.mkdirSync(layout.venvDir(venvHash), { recursive: true })
  const facts: StageFacts = {
    releaseId: config.releaseId,
    venvHash,
    pythonVersion: '3.11',
    pythonHome: target.pythonHome,
    wsgiApplication: 'hello.wsgi.application',
    staticSettings
  }
  return desiredState(config, facts)
}

export interface ApplyOptions {
  /** Runs the deploy's calls instead of the target's counting runner (a failing runner, a recording one). */
  runner?: ProcessRunner
  observer?: StepObserver
  /** The stage reused a complete release (a re-run): main then always reads the fastCgi section (drift check). */
  releaseReused?: boolean
  /** verify-before-switch: the temporary site the plan holds, and the check apply runs on it. */
  preSwitch?: PlanInput['preSwitch']
  checkBeforeSwitch?: ApplyDeps['checkBeforeSwitch']
}

/** The deploy plan against the state IIS holds now, as main builds it after reading the server. */
export async function planFor(
  target: Target,
  config: DeployConfig,
  desired: DesiredState,
  runner: ProcessRunner = target.runner,
  preSwitch?: PlanInput['preSwitch']
): Promise<DeployPlan> {
  const appcmd = new Appcmd({ runner, log: target.log, path: target.sandbox.appcmdPath })
  return deployPlanFor(config, desired, await readStateAt(appcmd, desired, layoutFor(config.deployRoot).root), undefined, preSwitch)
}

/** Read, plan and apply without a lock, as main does once it holds the locks. */
export async function applyUnlocked(
  target: Target,
  config: DeployConfig,
  desired: DesiredState,
  opts: ApplyOptions = {}
): Promise<ApplyResult> {
  const runner = opts.runner ?? target.runner
  // As main: the fastCgi read waits for the staged release, and the deploy-root record may stand for it.
  const appcmd = new Appcmd({ runner, log: target.log, path: target.sandbox.appcmdPath })
  const deferred = await readStateAt(appcmd, desired, layoutFor(config.deployRoot).root, { deferFastCgi: true })
  const current = await settleFastCgi(appcmd, target.log, deferred, desired, opts.releaseReused ?? false)
  const plan = await deployPlanFor(config, desired, current, undefined, opts.preSwitch)
  const deps: ApplyDeps = {
    runner,
    log: target.log,
    appcmdPath: target.sandbox.appcmdPath,
    icaclsPath: target.sandbox.icaclsPath,
    ...(opts.checkBeforeSwitch ? { checkBeforeSwitch: opts.checkBeforeSwitch } : {})
  }
  return applyPlan(deps, plan, opts.observer)
}

/** One deploy's IIS part as main runs it: under the target's lock, read the state, build the plan, apply it. */
export async function apply(target: Target, config: DeployConfig, desired: DesiredState, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const lock = await acquireLock({
    dir: layoutFor(config.deployRoot).root,
    site: config.siteName,
    appPath: config.appPath,
    runId: config.releaseId,
    timeoutMs: config.lockTimeoutMs,
    log: target.log
  })
  try {
    return await applyUnlocked(target, config, desired, opts)
  } finally {
    lock.release()
  }
}
