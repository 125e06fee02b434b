/**
 * mode: plan reads IIS where appcmd answers, so it shows what a deploy with the same inputs would do next; where
 * appcmd is absent it plans against an empty server and says so. Run in-process over the appcmd double.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { run, type RunDeps } from '../src/main.js'
import type { PlanDocument } from '../src/plan/plan-file.js'
import { apply, configFor, createTarget, SECRET, stage, type Target } from './support/apply-fixture.js'
import { captureLog, type CapturedLog } from './support/iis-test-log.js'
import { countingRunner } from './support/counting-runner.js'
import { sandboxRunner } from './support/iis-sandbox.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

async function planMode(t: Target, env: NodeJS.ProcessEnv): Promise<{ plan: PlanDocument; failures: string[]; log: CapturedLog }> {
  const out = path.join(t.deployRoot, '..', `${path.basename(t.deployRoot)}-plan`)
  const inputs: Record<string, string> = {
    mode: 'plan',
    'app-dir': EXAMPLE_APP,
    'deploy-root': t.deployRoot,
    'app-path': '/app',
    'release-id': 'r9',
    env: 'GREETING=hello\nFEATURE_X=on',
    'secret-env': `API_TOKEN=${SECRET}`,
    python: SYSTEM_PYTHON,
    appcmd: 'appcmd',
    'output-dir': out
  }
  const failures: string[] = []
  const log = captureLog()
  const deps: RunDeps = {
    inputs: name => inputs[name] ?? '',
    env,
    cwd: t.deployRoot,
    runner: countingRunner(sandboxRunner(t.sandbox)),
    log,
    setOutput: () => undefined,
    summary: { addRaw: () => undefined, write: async () => undefined },
    setFailed: message => failures.push(message)
  }
  try {
    await run(deps)
    expect(failures).toEqual([])
    return { plan: JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as PlanDocument, failures, log }
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
}

const lines = (plan: PlanDocument): string[] => plan.operations.map(op => `${op.phase} ${op.tool} ${op.argv.join(' ')}`)

describe('mode: plan', () => {
  it('with appcmd answering, diffs against the live IIS state and changes nothing', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    await apply(target, config, stage(target, config))
    target.sandbox.resetCounters()
    const before = target.sandbox.readConfig()

    const { plan, failures, log } = await planMode(target, { ...target.sandbox.env })
    expect(failures).toEqual([])
    expect(plan.diffedAgainstServer).toBe(true)
    const shown = lines(plan)
    // The pool, the app and its handlers exist: a deploy of r9 would switch the app, not create it.
    // (The temporary site of verify-before-switch gets an app and an unlock of its own, before the switch.)
    const live = shown.filter(l => !l.startsWith('pre-switch'))
    expect(live.some(l => l.includes('add apppool') || l.includes(' add app ') || l.includes('unlock config'))).toBe(false)
    // The URL's port is picked when planned: only what comes before it is compared.
    expect(
      shown
        .filter(l => l.startsWith('pre-switch'))
        .map(l =>
          l
            .split(' ')
            .slice(0, 4)
            .join(' ')
            .replace(/ http:.*$/, '')
        )
    ).toEqual([
      'pre-switch appcmd add site',
      'pre-switch appcmd add app',
      'pre-switch appcmd unlock config',
      'pre-switch appcmd set config',
      // FastCGI: the pool's worker is replaced so the check is not answered by a process holding the live release.
      'pre-switch appcmd recycle apppool',
      'pre-switch-verify verify GET',
      'pre-switch-remove appcmd delete site'
    ])
    expect(shown).toContain(`switch appcmd set vdir Default Web Site/app/ /physicalPath:${path.join(target.deployRoot, 'releases', 'r9')}`)
    expect(shown[0]).toMatch(/^backup appcmd add backup django-iis-deploy-r9-/)
    expect(log.lines.join('\n')).toContain('Planned against the IIS state read from this server')
    // Only reads: plan mode never writes to IIS.
    expect(target.sandbox.calls().length).toBeGreaterThan(0)
    expect(target.sandbox.mutatingCalls()).toEqual([])
    expect(target.sandbox.readConfig()).toBe(before)
  }, 300_000)

  it('without appcmd, plans against an empty server and says so', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    await apply(target, config, stage(target, config))
    target.sandbox.resetCounters()

    const { plan, failures, log } = await planMode(target, { PATH: process.env.PATH ?? '' })
    expect(failures).toEqual([])
    expect(plan.diffedAgainstServer).toBe(false)
    const shown = lines(plan)
    expect(shown[1]).toMatch(/^pool appcmd add apppool \/name:DefaultWebSite-app /)
    expect(shown.some(l => l.startsWith('switch '))).toBe(false)
    const text = log.lines.join('\n')
    expect(text).toContain('appcmd is not on this machine: planning against an empty server')
    expect(text).toContain('planned against an empty server')
    expect(target.sandbox.calls()).toEqual([])
  }, 300_000)
})
