/**
 * mode: rollback, run in-process over the appcmd and icacls doubles: two releases deployed as main would leave
 * them (IIS applied, release.json with the settings they went live with), then run() rolls back.
 */
import fs from 'node:fs'
import type http from 'node:http'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DeployConfig } from '../src/config.js'
import { historyFileFor, readHistory } from '../src/history/store.js'
import { Appcmd } from '../src/iis/appcmd.js'
import { readStateAt, type CurrentState } from '../src/iis/state.js'
import { layoutFor } from '../src/layout.js'
import { run, type RunDeps } from '../src/main.js'
import { stateQuery, type StageFacts } from '../src/plan/desired.js'
import { markRelease, readRelease, writeRelease } from '../src/releases.js'
import { configForRelease, deployedSettings } from '../src/rollback/deployed-settings.js'
import { apply, configFor, createTarget, SECRET, stage, type Target } from './support/apply-fixture.js'
import { captureLog, type CapturedLog } from './support/iis-test-log.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { serve, type Running } from './support/verify-servers.js'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'

const APP = { site: 'Default Web Site', appPath: '/app' }
let target: Target | undefined
let server: Running | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
  target?.cleanup()
  target = undefined
})

/** One deploy as main leaves it: IIS applied, release.json written and marked live with its settings. */
async function deploy(t: Target, id: string, minute: number, env: string, staticUrl: string): Promise<DeployConfig> {
  const config = configFor(t, id, { env })
  const staticSettings = { staticUrl, forceScriptName: null }
  const venvHash = `venv-${id}`
  await apply(t, config, stage(t, config, venvHash, staticSettings))
  const facts: StageFacts = {
    releaseId: id,
    venvHash,
    pythonVersion: '3.11',
    pythonHome: t.pythonHome,
    wsgiApplication: 'hello.wsgi.application',
    staticSettings
  }
  const layout = layoutFor(t.deployRoot)
  const at = `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`
  writeRelease(layout, {
    id,
    createdAt: at,
    venvHash,
    wsgiApplication: facts.wsgiApplication,
    staticSettings,
    staticFiles: [],
    target: APP
  })
  markRelease(layout, id, 'live', new Date(at))
  writeRelease(layout, { ...readRelease(layout, id)!, deployedWith: deployedSettings(config, facts) })
  return config
}

interface Rolled {
  failures: string[]
  outputs: Record<string, string>
  log: CapturedLog
  summary: string
}

async function rollback(t: Target, url: string, inputs: Record<string, string> = {}): Promise<Rolled> {
  const all: Record<string, string> = {
    mode: 'rollback',
    'app-dir': EXAMPLE_APP,
    'deploy-root': t.deployRoot,
    'app-path': '/app',
    // This run's variables are the live release's: the rollback must not take them for the old release.
    env: 'GREETING=bye\nFEATURE_X=off',
    'secret-env': `API_TOKEN=${SECRET}`,
    python: SYSTEM_PYTHON,
    appcmd: t.sandbox.appcmdPath,
    icacls: t.sandbox.icaclsPath,
    'lock-dir': t.lockDir,
    'lock-timeout': '30',
    'verify-url': url,
    'verify-timeout': '2',
    'output-dir': path.join(t.deployRoot, '..', `${path.basename(t.deployRoot)}-out`),
    ...inputs
  }
  const failures: string[] = []
  const outputs: Record<string, string> = {}
  let summary = ''
  const log = captureLog()
  const deps: RunDeps = {
    inputs: name => all[name] ?? '',
    env: { ...t.sandbox.env, GITHUB_ACTOR: 'oncall' },
    cwd: t.deployRoot,
    runner: t.runner,
    log,
    setOutput: (name, value) => {
      outputs[name] = String(value)
    },
    summary: {
      addRaw: (text: string) => {
        summary += text
        return undefined
      },
      write: async () => undefined
    },
    setFailed: message => failures.push(message)
  }
  await run(deps)
  return { failures, outputs, log, summary }
}

async function iisState(t: Target, config: DeployConfig): Promise<CurrentState> {
  const appcmd = new Appcmd({ runner: t.runner, log: t.log, path: t.sandbox.appcmdPath })
  return readStateAt(appcmd, stateQuery(config), layoutFor(t.deployRoot).root)
}

const envOf = (state: CurrentState): Record<string, string> => Object.fromEntries((state.fastCgi[0]?.env ?? []).map(v => [v.name, v.value]))

/** An app that answers 200, except while IIS serves a release in `failing`. */
async function app(t: Target, failing: string[] = []): Promise<Running> {
  const served = (): string => /physicalPath="[^"]*[\\/]releases[\\/]([^"\\/]+)"/.exec(t.sandbox.readConfig())?.[1] ?? ''
  return serve((_req: http.IncomingMessage, res: http.ServerResponse) => {
    const bad = failing.includes(served())
    res.writeHead(bad ? 500 : 200, { 'content-type': 'text/html' })
    res.end(bad ? 'Server Error' : '<html>ok</html>')
  })
}

describe('mode: rollback', () => {
  it('after two deploys, goes back to the first with its variables and static vdir, verifies and records it', async () => {
    target = createTarget()
    const first = await deploy(target, 'r1', 1, 'GREETING=hello\nFEATURE_X=on', 'static/')
    await deploy(target, 'r2', 2, 'GREETING=bye\nFEATURE_X=off', 'assets/')
    const before = await iisState(target, first)
    expect(envOf(before).GREETING).toBe('bye')
    server = await app(target)

    const { failures, outputs, log, summary } = await rollback(target, `${server.url}app/`)
    expect(failures).toEqual([])
    const after = await iisState(target, first)
    const layout = layoutFor(target.deployRoot)
    expect(after.app.physicalPath).toBe(layout.releaseDir('r1'))
    expect(envOf(after)).toMatchObject({ GREETING: 'hello', FEATURE_X: 'on', API_TOKEN: SECRET })
    expect(after.fastCgi[0].fullPath).toBe(layout.venvPython('venv-r1'))
    // STATIC_URL static/ is the release's own folder, served through the app's root vdir: no vdir of its own.
    expect(after.vdirs.some(v => v.path === '/static')).toBe(false)
    expect(after.vdirs.some(v => v.path === '/assets')).toBe(false)
    // Verify ran against the restored release.
    expect(log.lines.join('\n')).toMatch(/Verify/)
    expect(readRelease(layout, 'r1')?.state).toBe('live')
    expect(readRelease(layout, 'r2')?.state).toBe('staged')
    expect(outputs.release).toBe('r1')
    expect(summary).toContain('Rolled back to release')
    // No record says whether migrations ran after r1: the warning says the schema is not rolled back.
    expect(log.lines.join('\n')).toContain('the database schema is not rolled back')
    const history = readHistory(historyFileFor(target.deployRoot, APP), () => undefined)
    expect(history.at(-1)).toMatchObject({ mode: 'rollback', releaseId: 'r1', outcome: 'deployed', live: 'r1', actor: 'oncall' })
    // No secret in release.json (it lies under the web root).
    for (const id of ['r1', 'r2']) expect(fs.readFileSync(path.join(layout.releaseDir(id), 'release.json'), 'utf8')).not.toContain(SECRET)
  }, 120_000)

  it('goes further back on a second rollback, and to release-id when given', async () => {
    target = createTarget()
    await deploy(target, 'r0', 0, 'GREETING=zero', 'static/')
    const first = await deploy(target, 'r1', 1, 'GREETING=hello', 'static/')
    await deploy(target, 'r2', 2, 'GREETING=bye', 'static/')
    server = await app(target)
    expect((await rollback(target, `${server.url}app/`)).failures).toEqual([])
    expect((await iisState(target, first)).app.physicalPath).toBe(layoutFor(target.deployRoot).releaseDir('r1'))
    expect((await rollback(target, `${server.url}app/`)).failures).toEqual([])
    expect(envOf(await iisState(target, first)).GREETING).toBe('zero')
    const named = await rollback(target, `${server.url}app/`, { 'release-id': 'r2' })
    expect(named.failures).toEqual([])
    expect(envOf(await iisState(target, first)).GREETING).toBe('bye')
    expect(named.outputs['previous-release']).toBe('r0')
  }, 120_000)

  it('warns from the release record when a later release applied migrations', async () => {
    target = createTarget()
    await deploy(target, 'r1', 1, 'GREETING=hello', 'static/')
    await deploy(target, 'r2', 2, 'GREETING=bye', 'static/')
    const layout = layoutFor(target.deployRoot)
    writeRelease(layout, {
      ...readRelease(layout, 'r2')!,
      migrationsApplied: true,
      migrations: { applied: ['notes.0002_tag'], reverse: ['python manage.py migrate notes 0001_initial'] }
    })
    server = await app(target)
    const { failures, log } = await rollback(target, `${server.url}app/`)
    expect(failures).toEqual([])
    expect(log.lines.join('\n')).toContain('migrations were applied after release r1 (by r2)')
    expect(log.lines.join('\n')).toContain(
      "to reverse them (with this release's code, in this order): python manage.py migrate notes 0001_initial"
    )
  }, 120_000)

  describe('refuses, naming the input, before IIS changes', () => {
    async function refused(setup: (t: Target) => Promise<void>, inputs: Record<string, string>): Promise<string[]> {
      target = createTarget()
      await setup(target)
      const before = target.sandbox.readConfig()
      target.sandbox.resetCounters()
      const { failures } = await rollback(target, 'http://127.0.0.1:9/app/', inputs)
      expect(target.sandbox.mutatingCalls()).toEqual([])
      expect(target.sandbox.readConfig()).toBe(before)
      return failures
    }

    it('with no verified release before the live one', async () => {
      const failures = await refused(t => deploy(t, 'r1', 1, 'A=1', 'static/').then(() => undefined), {})
      expect(failures).toHaveLength(1)
      expect(failures[0]).toMatch(/^Input 'mode': no release of Default Web Site\/app before the live one \(r1\) passed verify/)
      expect(failures[0]).toContain('deploy with mode: deploy')
    }, 120_000)

    it('with a release-id that does not exist', async () => {
      const failures = await refused(
        async t => {
          await deploy(t, 'r1', 1, 'A=1', 'static/')
          await deploy(t, 'r2', 2, 'A=2', 'static/')
        },
        { 'release-id': 'r9' }
      )
      expect(failures).toEqual([
        expect.stringMatching(/^Input 'release-id': there is no release 'r9' under .*; set it to a verified release of this app: r1$/)
      ])
    }, 120_000)

    it('with a release-id that never passed verify, or failed it', async () => {
      const failures = await refused(
        async t => {
          await deploy(t, 'r1', 1, 'A=1', 'static/')
          await deploy(t, 'r2', 2, 'A=2', 'static/')
          const layout = layoutFor(t.deployRoot)
          fs.mkdirSync(layout.releaseDir('r3'), { recursive: true })
          writeRelease(layout, { id: 'r3', createdAt: '2026-01-01T00:03:00.000Z', venvHash: 'v', target: APP })
          fs.mkdirSync(layout.releaseDir('r4'), { recursive: true })
          writeRelease(layout, { id: 'r4', createdAt: '2026-01-01T00:04:00.000Z', venvHash: 'v', target: APP, state: 'failed' })
        },
        { 'release-id': 'r3' }
      )
      expect(failures).toEqual([expect.stringMatching(/^Input 'release-id': release r3 never passed verify.*one of: r1$/)])
      const failed = await rollback(target!, 'http://127.0.0.1:9/app/', { 'release-id': 'r4' })
      expect(failed.failures).toEqual([expect.stringMatching(/^Input 'release-id': release r4 failed verify/)])
    }, 120_000)

    it('without a secret the release was deployed with, and writes no history entry', async () => {
      const failures = await refused(
        async t => {
          await deploy(t, 'r1', 1, 'A=1', 'static/')
          await deploy(t, 'r2', 2, 'A=2', 'static/')
        },
        { 'secret-env': '' }
      )
      expect(failures).toEqual([expect.stringMatching(/^Input 'secret-env': release r1 was deployed with secret API_TOKEN/)])
      expect(readHistory(historyFileFor(target!.deployRoot, APP), () => undefined)).toEqual([])
    }, 120_000)

    it('with a release-id of another target', async () => {
      const failures = await refused(
        async t => {
          await deploy(t, 'r1', 1, 'A=1', 'static/')
          await deploy(t, 'r2', 2, 'A=2', 'static/')
          const layout = layoutFor(t.deployRoot)
          writeRelease(layout, { ...readRelease(layout, 'r1')!, target: { site: 'Default Web Site', appPath: '/other' } })
        },
        { 'release-id': 'r1' }
      )
      expect(failures).toEqual([
        expect.stringMatching(/^Input 'release-id': release r1 belongs to Default Web Site\/other, not Default Web Site\/app/)
      ])
    }, 120_000)
  })

  it('when the rolled-back release fails verify, applies the live one again and fails', async () => {
    target = createTarget()
    const first = await deploy(target, 'r1', 1, 'GREETING=hello', 'static/')
    await deploy(target, 'r2', 2, 'GREETING=bye', 'assets/')
    server = await app(target, ['r1'])
    const { failures, outputs } = await rollback(target, `${server.url}app/`)
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatch(/release r1 failed verify .*rolled forward: release r2 serves again .*It passes verify\./)
    const after = await iisState(target, first)
    const layout = layoutFor(target.deployRoot)
    expect(after.app.physicalPath).toBe(layout.releaseDir('r2'))
    expect(envOf(after).GREETING).toBe('bye')
    expect(after.vdirs).toContainEqual({ path: '/assets', physicalPath: layout.staticDir('r2') })
    expect(readRelease(layout, 'r1')?.state).toBe('failed')
    expect(readRelease(layout, 'r2')?.state).toBe('live')
    expect(outputs['rolled-back']).toBe('true')
    const history = readHistory(historyFileFor(target.deployRoot, APP), () => undefined)
    expect(history.at(-1)).toMatchObject({ mode: 'rollback', outcome: 'failed-rolled-back', live: 'r2' })
  }, 120_000)
})

describe('the settings a release records', () => {
  it('keep secret values out and take them back from the rollback run, which must set each one', () => {
    target = createTarget()
    const deployed = configFor(target, 'r1', { env: 'GREETING=hello' })
    const facts = {
      releaseId: 'r1',
      venvHash: 'v',
      pythonVersion: '3.11',
      pythonHome: '/py',
      wsgiApplication: '',
      staticSettings: { staticUrl: 'static/', forceScriptName: null }
    }
    const recorded = deployedSettings(deployed, facts)
    expect(JSON.stringify(recorded)).not.toContain(SECRET)
    expect(recorded.env).toEqual([
      { name: 'GREETING', value: 'hello', secret: false },
      { name: 'API_TOKEN', secret: true }
    ])
    const now = configFor(target, 'x', { env: 'GREETING=bye\nNEW=1', 'secret-env': 'API_TOKEN=rotated-token' })
    expect(configForRelease(now, 'r1', recorded, captureLog()).env).toEqual([
      { name: 'GREETING', value: 'hello', secret: false },
      { name: 'API_TOKEN', value: 'rotated-token', secret: true }
    ])
    const without = configFor(target, 'x', { 'secret-env': '' })
    expect(() => configForRelease(without, 'r1', recorded, captureLog())).toThrow(
      "Input 'secret-env': release r1 was deployed with secret API_TOKEN, which this run does not set"
    )
  })
})
