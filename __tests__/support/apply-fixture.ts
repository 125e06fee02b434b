import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { getInputs, type DeployConfig } from '../../src/config.js'
import { desiredState, type StageFacts } from '../../src/plan/desired.js'
import type { StaticSettings } from '../../src/plan/static-location.js'
import type { DesiredState } from '../../src/plan/types.js'
import { applyRelease, type ApplyInput, type ApplyResult } from '../../src/iis/apply.js'
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
  runner: CountingRunner
  log: CapturedLog
  cleanup(): void
}

/** A fake IIS server (appcmd/icacls doubles) and an empty deploy-root beside it. */
export function createTarget(): Target {
  const sandbox = createIisSandbox()
  const deployRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-root-'))
  const pythonHome = fs.mkdtempSync(path.join(os.tmpdir(), 'python-home-'))
  return {
    sandbox,
    deployRoot,
    pythonHome,
    runner: countingRunner(sandboxRunner(sandbox)),
    log: captureLog(),
    cleanup: () => {
      sandbox.cleanup()
      fs.rmSync(deployRoot, { recursive: true, force: true })
      fs.rmSync(pythonHome, { recursive: true, force: true })
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

export function apply(
  target: Target,
  config: DeployConfig,
  desired: DesiredState,
  beforeSwitch?: ApplyInput['beforeSwitch'],
  lockHeld = false
): Promise<ApplyResult> {
  return applyRelease(
    { runner: target.runner, log: target.log, appcmdPath: target.sandbox.appcmdPath, icaclsPath: target.sandbox.icaclsPath },
    { config, desired, beforeSwitch, lockHeld }
  )
}
