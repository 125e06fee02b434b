import fs from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import type { DeployConfig } from '../src/config.js'
import { applyPlan, type StepObserver } from '../src/iis/apply.js'
import { startJournal } from '../src/journal/deploy-journal.js'
import { recoverUnfinishedRun } from '../src/journal/recover.js'
import { journalFileFor } from '../src/journal/store.js'
import { layoutFor } from '../src/layout.js'
import type { Step } from '../src/plan/types.js'
import type { ProcessRunner } from '../src/process.js'
import { markRelease, passedVerify, readRelease, writeRelease } from '../src/releases.js'
import { configFor, createTarget, planFor, SECRET, stage, type Target } from './support/apply-fixture.js'
import { captureLog } from './support/iis-test-log.js'

// A crash in process: at the chosen point the run's next await never settles and the run is abandoned, so no
// catch, finally or rollback of it ever runs, as after kill -9. The IIS double keeps what the calls so far wrote.
const NEVER = new Promise<never>(() => {})

/** Where a run is stopped: after the nth mutating appcmd call, or at a named boundary of the deploy. */
type KillPoint = { call: number } | { boundary: string }

interface Trial {
  killed: Promise<void>
  kill(): void
}

function trial(): Trial {
  let kill = (): void => undefined
  const killed = new Promise<void>(resolve => (kill = resolve))
  return { killed, kill }
}

/** The target's runner, stopping the run right after the nth mutating appcmd call returned. */
function killingRunner(inner: ProcessRunner, at: KillPoint, t: Trial): ProcessRunner {
  let writes = 0
  return {
    async run(file, args, options) {
      const result = await inner.run(file, args, options)
      const appcmd = /appcmd/i.test(file) && args[0] !== 'list'
      if (appcmd && 'call' in at && ++writes === at.call) {
        t.kill()
        return NEVER
      }
      return result
    }
  }
}

/**
 * A deploy's IIS part as deployMode runs it around the journal: begin, apply with the journal observing, verify
 * (here: passes), mark the release live, close. `boundaries` collects the boundary names it passed.
 */
async function deploy(
  target: Target,
  config: DeployConfig,
  at: KillPoint | undefined,
  t: Trial,
  boundaries: string[] = [],
  venvHash = `venv-${config.releaseId}`
) {
  const runner = at ? killingRunner(target.runner, at, t) : target.runner
  const boundary = async (name: string): Promise<void> => {
    boundaries.push(name)
    if (at && 'boundary' in at && at.boundary === name) {
      t.kill()
      await NEVER
    }
  }
  const layout = layoutFor(config.deployRoot)
  const desired = stage(target, config, venvHash)
  // What stage writes once a release is complete: a staged release of this app.
  writeRelease(layout, {
    id: config.releaseId,
    createdAt: new Date().toISOString(),
    venvHash,
    target: { site: config.siteName, appPath: config.appPath }
  })
  const plan = await planFor(target, config, desired, runner)
  const journal = startJournal(layout, plan, config.releaseId)
  await boundary('journal written, before apply')
  const steps: Step[] = plan.steps
  const observer: StepObserver = {
    beforeStep: (step, i) => journal?.beforeStep(step, i),
    stepFailed: (step, i, e) => journal?.stepFailed(step, i, e),
    afterStep: async (step, i) => {
      journal?.afterStep(step, i)
      const next = steps.filter(s => s.phase !== 'sp-config' && s.phase !== 'sp-recycle')[i + 1]
      if (next && next.phase !== step.phase) await boundary(`after phase ${step.phase}`)
    }
  }
  const deps = { runner, log: target.log, appcmdPath: target.sandbox.appcmdPath, icaclsPath: target.sandbox.icaclsPath }
  await applyPlan(deps, plan, observer)
  journal?.applied()
  await boundary('after apply, before verify')
  markRelease(layout, config.releaseId, 'live')
  await boundary('verify passed, release marked live')
  journal?.close()
}

async function recover(target: Target, config: DeployConfig) {
  const log = captureLog()
  const recovery = await recoverUnfinishedRun({
    runner: target.runner,
    log,
    appcmdPath: target.sandbox.appcmdPath,
    icaclsPath: target.sandbox.icaclsPath,
    deployRoot: config.deployRoot,
    target: { site: config.siteName, appPath: config.appPath }
  })
  return { recovery, log }
}

/** IIS's configuration as compared after a recovery (the double keeps backups apart from it). */
const configOf = (t: Target): string => t.sandbox.readConfig()

/**
 * Without the app's `<location>` entries when the app does not exist: the handlers unlock has no inverse and stays
 * after the app is gone, harmless without it (docs/windows-facts.md, ac-delete-app-location).
 */
function comparable(xml: string): string {
  if (xml.includes('<application path="/app"')) return xml
  return xml.replace(/ *<location path="Default Web Site\/app"[^>]*>[\s\S]*?<\/location>\n/g, '')
}

/** Every kill point of one deploy: each mutating appcmd call and each boundary a full run of it passes. */
async function killPoints(scenario: (t: Target) => Promise<DeployConfig>): Promise<KillPoint[]> {
  const t = createTarget()
  try {
    const config = await scenario(t)
    const boundaries: string[] = []
    const before = t.sandbox.mutatingCalls().length
    await deploy(t, config, undefined, trial(), boundaries)
    const calls = t.sandbox.mutatingCalls().length - before
    return [...Array.from({ length: calls }, (_, i) => ({ call: i + 1 })), ...boundaries.map(boundary => ({ boundary }))]
  } finally {
    t.cleanup()
  }
}

const firstDeploy = async (t: Target): Promise<DeployConfig> => configFor(t, 'r2')
/** r2 in r1's venv, one variable changed: the run's writes all have inverses (no backup restore). */
const sameVenvUpgrade = async (t: Target): Promise<DeployConfig> => {
  await deploy(t, configFor(t, 'r1'), undefined, trial(), [], 'venv-r2')
  return configFor(t, 'r2', { env: 'GREETING=hi\nFEATURE_X=on' })
}
/** r2 with a new venv and a rotated secret: the old registration's inverse needs that secret, so the backup. */
const upgrade = async (t: Target): Promise<DeployConfig> => {
  const c1 = configFor(t, 'r1')
  await deploy(t, c1, undefined, trial())
  return configFor(t, 'r2', { 'secret-env': 'API_TOKEN=rotated-Secret-9', env: 'GREETING=hi\nFEATURE_Y=on' })
}

let open: Target | undefined
afterEach(() => open?.cleanup())

describe.each([
  ['a first deploy', firstDeploy],
  ['an upgrade with a new venv and a rotated secret', upgrade],
  ['an upgrade in the same venv', sameVenvUpgrade]
])('a run killed during %s', (name, scenario) => {
  it('is recovered by the next run at every kill point', async () => {
    const points = await killPoints(scenario)
    expect(points.length).toBeGreaterThan(8)
    let recovered = 0
    const failures: string[] = []
    for (const at of points) {
      const t = (open = createTarget())
      const config = await scenario(t)
      const lastGood = configOf(t)
      const crash = trial()
      await Promise.race([deploy(t, config, at, crash), crash.killed])
      const label = 'call' in at ? `after mutating appcmd call ${at.call}` : `at "${at.boundary}"`
      const verifiedAlready = 'boundary' in at && at.boundary === 'verify passed, release marked live'
      const expected = verifiedAlready ? configOf(t) : lastGood
      const { recovery, log } = await recover(t, config)
      const layout = layoutFor(config.deployRoot)
      const served = /physicalPath="([^"]*)"/.exec(configOf(t).split('path="/app"')[1] ?? '')?.[1]
      const servedRelease = served ? readRelease(layout, served.split(/[\\/]/).at(-1) ?? '') : undefined
      const problems = [
        comparable(configOf(t)) !== comparable(expected) && 'applicationHost.config differs from the last successful deploy',
        fs.existsSync(journalFileFor(config.deployRoot, { site: config.siteName, appPath: config.appPath })) && 'journal left open',
        !verifiedAlready && recovery?.ok !== true && `recovery did not succeed: ${recovery?.notice ?? 'nothing recovered'}`,
        served && !(servedRelease && passedVerify(servedRelease)) && `IIS serves ${served}, not a verified release`,
        !verifiedAlready && readRelease(layout, 'r2')?.state !== 'failed' && 'the interrupted release is not marked failed',
        log.lines.join('\n').includes(SECRET) && 'a secret in the log',
        JSON.stringify(readRelease(layout, 'r2')).includes('rotated-Secret-9') && 'a secret in release.json'
      ].filter(Boolean)
      if (problems.length === 0) recovered++
      else {
        const now = configOf(t).split('\n')
        const diff = [
          ...expected
            .split('\n')
            .filter(l => !now.includes(l))
            .map(l => `- ${l}`),
          ...now.filter(l => !expected.includes(l)).map(l => `+ ${l}`)
        ]
        failures.push(`${name}, killed ${label}: ${problems.join('; ')}\n${diff.join('\n')}\n${log.lines.join('\n')}`)
      }
      t.cleanup()
      open = undefined
    }
    console.log(`${name}: ${recovered}/${points.length} crash points recover`)
    expect(failures).toEqual([])
    expect(recovered).toBe(points.length)
  }, 600_000)
})
