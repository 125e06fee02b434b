// Warm-up (input warm-up): IIS Application Initialization settings as plan steps, their no-op and removal, the
// inverses, the check for the module, and the request the deploy makes after the recycle
// (docs/windows-facts.md, ai-start-mode, ai-preload, ai-module, ai-iis-request).
import fs from 'node:fs'
import type http from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { contextFor, type RunDeps } from '../src/flow/context.js'
import { applyAndVerify } from '../src/flow/modes.js'
import { reportFrom } from '../src/flow/outcome.js'
import { runSteps } from '../src/flow/steps.js'
import { InputError } from '../src/errors.js'
import { hasAppInitModule, requireAppInit } from '../src/iis/app-init.js'
import { Appcmd } from '../src/iis/appcmd.js'
import { readStateAt, type CurrentState } from '../src/iis/state.js'
import { inverseOf } from '../src/iis/undo.js'
import { layoutFor } from '../src/layout.js'
import { Phases } from '../src/phases.js'
import { freshState, planChanges } from '../src/plan/diff.js'
import { deployPlanFor } from '../src/plan/plan-output.js'
import type { DesiredState } from '../src/plan/types.js'
import type { RunReport } from '../src/report.js'
import { writeRelease } from '../src/releases.js'
import type { StageResult } from '../src/stage.js'
import { warmUpRequest } from '../src/verify/warm-up.js'
import { apply, configFor, createTarget, stage, type Target } from './support/apply-fixture.js'
import { captureLog } from './support/iis-test-log.js'
import { serve, track, verifyConfig } from './support/verify-servers.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

function desiredWith(warmUp: boolean): { t: Target; desired: DesiredState } {
  target = createTarget()
  const config = configFor(target, 'r1', { 'warm-up': String(warmUp) })
  return { t: target, desired: stage(target, config) }
}

/** An existing app and pool as a first deploy leaves them, with the warm-up attributes given. */
function existing(desired: DesiredState, extra: { startMode?: string; preloadEnabled?: string; recorded?: boolean }): CurrentState {
  return {
    ...freshState(desired),
    pool: {
      exists: true,
      identity: 'ApplicationPoolIdentity',
      managedRuntimeVersion: '',
      ...(extra.startMode ? { startMode: extra.startMode } : {})
    },
    app: {
      exists: true,
      pool: desired.pool.name,
      physicalPath: desired.app.physicalPath,
      ...(extra.preloadEnabled ? { preloadEnabled: extra.preloadEnabled } : {})
    },
    handlersUnlocked: true,
    anonymousAsPool: true,
    ...(extra.recorded ? { warmUp: { pool: desired.pool.name } } : {})
  }
}

const argvs = (ops: { argv: string[] }[]): string[] => ops.map(o => o.argv.join(' '))
const warmUpArgv = (plan: ReturnType<typeof planChanges>): string[] =>
  argvs([...plan.pool, ...plan.beforeSwitch]).filter(a => /startMode|preloadEnabled/.test(a))

describe('warm-up in the plan', () => {
  it('a first deploy creates the pool AlwaysRunning and preloads the app right after adding it', () => {
    const { desired } = desiredWith(true)
    const plan = planChanges(undefined, desired)
    expect(argvs(plan.pool)[0]).toMatch(/^add apppool \/name:DefaultWebSite-app .*\/startMode:AlwaysRunning$/)
    const before = argvs(plan.beforeSwitch)
    const addApp = before.findIndex(a => a.startsWith('add app '))
    expect(before[addApp + 1]).toBe('set app Default Web Site/app /preloadEnabled:true')
    expect(plan.objects).toContainEqual({ kind: 'warmUp', name: 'Default Web Site/app', status: 'created' })
  })

  it('turning it on for an existing app sets both attributes, and a re-run with both set is a no-op', () => {
    const { desired } = desiredWith(true)
    const on = planChanges(existing(desired, {}), desired)
    expect(warmUpArgv(on)).toEqual([
      'set apppool /apppool.name:DefaultWebSite-app /startMode:AlwaysRunning',
      'set app Default Web Site/app /preloadEnabled:true'
    ])
    const again = planChanges(existing(desired, { startMode: 'alwaysrunning', preloadEnabled: 'True', recorded: true }), desired)
    expect(warmUpArgv(again)).toEqual([])
    expect(again.objects).toContainEqual({ kind: 'warmUp', name: 'Default Web Site/app', status: 'unchanged' })
    expect(again.objects.some(o => o.kind === 'apppool' && o.status !== 'unchanged')).toBe(false)
  })

  it('turned off, puts back what the record says warm-up set, and leaves an administrator’s own setting alone', () => {
    const { desired } = desiredWith(false)
    const set = { startMode: 'AlwaysRunning', preloadEnabled: 'true' }
    const off = planChanges(existing(desired, { ...set, recorded: true }), desired)
    expect(warmUpArgv(off)).toEqual([
      'set apppool /apppool.name:DefaultWebSite-app /startMode:OnDemand',
      'set app Default Web Site/app /preloadEnabled:false'
    ])
    expect(off.objects).toContainEqual({ kind: 'warmUp', name: 'Default Web Site/app', status: 'removed' })
    expect(warmUpArgv(planChanges(existing(desired, set), desired))).toEqual([])
    expect(warmUpArgv(planChanges(existing(desired, { recorded: true }), desired))).toEqual([])
  })

  it('undoes each setting to what the state read before the run, defaults included', () => {
    const { desired } = desiredWith(true)
    const before = existing(desired, { preloadEnabled: 'false' })
    const [poolOp, appOp] = [...planChanges(before, desired).pool, ...planChanges(before, desired).beforeSwitch].filter(o =>
      /startMode|preloadEnabled/.test(o.argv.join(' '))
    )
    expect(argvs(inverseOf(poolOp, before, desired))).toEqual(['set apppool /apppool.name:DefaultWebSite-app /startMode:OnDemand'])
    expect(argvs(inverseOf(appOp, before, desired))).toEqual(['set app Default Web Site/app /preloadEnabled:false'])
  })
})

describe('warm-up applied over the appcmd double', () => {
  it('sets, reads back as a no-op, and removes on warm-up: false', async () => {
    const { t, desired } = desiredWith(true)
    const config = configFor(t, 'r1', { 'warm-up': 'true' })
    await apply(t, config, desired)
    const appcmd = new Appcmd({ runner: t.runner, log: t.log, path: t.sandbox.appcmdPath })
    const state = await readStateAt(appcmd, desired, layoutFor(config.deployRoot).root)
    expect(state.pool.startMode).toBe('AlwaysRunning')
    expect(state.app.preloadEnabled).toBe('true')
    expect(state.warmUp).toEqual({ pool: 'DefaultWebSite-app' })
    expect(warmUpArgv(planChanges(state, desired))).toEqual([])

    const offConfig = configFor(t, 'r1', { 'warm-up': 'false' })
    const offDesired = stage(t, offConfig)
    await apply(t, offConfig, offDesired)
    const after = await readStateAt(appcmd, offDesired, layoutFor(config.deployRoot).root)
    expect(after.pool.startMode).toBe('OnDemand')
    expect(after.app.preloadEnabled).toBe('false')
    expect(after.warmUp).toBeUndefined()
    expect(warmUpArgv(planChanges(after, offDesired))).toEqual([])
  })

  it('refuses a value the attribute does not take, as appcmd does', async () => {
    target = createTarget()
    const appcmd = new Appcmd({ runner: target.runner, log: target.log, path: target.sandbox.appcmdPath })
    await appcmd.run({ argv: ['add', 'apppool', '/name:P'], mutates: true })
    await expect(appcmd.run({ argv: ['set', 'apppool', '/apppool.name:P', '/startMode:Always'], mutates: true })).rejects.toThrow(
      /startMode/
    )
  })
})

describe('Application Initialization must be installed', () => {
  it('names warm-up and Install-WindowsFeature Web-AppInit when globalModules lacks the module, and passes once it is there', async () => {
    target = createTarget()
    const appcmd = new Appcmd({ runner: target.runner, log: target.log, path: target.sandbox.appcmdPath })
    const err = await requireAppInit(appcmd).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).input).toBe('warm-up')
    expect((err as InputError).message).toMatch(/Install-WindowsFeature Web-AppInit/)
    expect(target.sandbox.mutatingCalls()).toEqual([])
    await appcmd.run({
      argv: [
        'set',
        'config',
        '-section:system.webServer/globalModules',
        "/+[name='ApplicationInitializationModule',image='%windir%\\System32\\inetsrv\\warmup.dll']",
        '/commit:apphost'
      ],
      mutates: true
    })
    await expect(requireAppInit(appcmd)).resolves.toBeUndefined()
  })

  it('accepts the module by either name or by its image, case-insensitively', () => {
    expect(hasAppInitModule('<add name="applicationinitializationmodule" image="x.dll" />')).toBe(true)
    expect(hasAppInitModule('<add name="AppWarmupModule" image="x.dll" />')).toBe(true)
    expect(hasAppInitModule('<add name="Other" image="%windir%\\System32\\inetsrv\\warmup.dll" />')).toBe(true)
    expect(hasAppInitModule('<add name="FastCgiModule" image="%windir%\\System32\\inetsrv\\iisfcgi.dll" />')).toBe(false)
  })
})

describe('the warm-up request', () => {
  it('waits out the answers of a starting pool and stops at the first other one', async () => {
    const statuses = [503, 502, 200]
    const seen: string[] = []
    const result = await warmUpRequest(verifyConfig('http://127.0.0.1:9/app/', { intervalMs: 1, totalTimeoutMs: 10_000 }), {
      log: captureLog(),
      get: req => {
        seen.push(req.url)
        return Promise.resolve({ url: req.url, status: statuses.shift(), headers: {}, body: '', redirects: [], ms: 1 })
      },
      sleep: () => Promise.resolve()
    })
    expect(result).toMatchObject({ status: 200, attempts: 3 })
    expect(seen).toEqual(Array(3).fill('http://127.0.0.1:9/app/'))
  })

  it('is made after the pool recycle and before verify', { timeout: 60_000 }, async () => {
    target = createTarget()
    const t = target
    const events: string[] = []
    const site = await track(
      serve((req: http.IncomingMessage, res: http.ServerResponse) => {
        events.push(`GET ${req.url ?? ''}`)
        res.end('hello')
      })
    )
    const log = captureLog()
    const runner = {
      run: async (file: string, args: string[], options?: Parameters<Target['runner']['run']>[2]) => {
        if (args[0] === 'recycle') events.push(`recycle ${args[1] ?? ''}`)
        return t.runner.run(file, args, options)
      }
    }
    const config = configFor(t, 'r1', {
      appcmd: t.sandbox.appcmdPath,
      icacls: t.sandbox.icaclsPath,
      'warm-up': 'true',
      'verify-url': `${site.url}app/`,
      'verify-static': 'false',
      'verify-timeout': '5',
      'verify-interval': '0.05'
    })
    const desired = stage(t, config)
    writeRelease(layoutFor(config.deployRoot), { id: 'r1', createdAt: new Date().toISOString(), venvHash: 'venv1' })
    const current = await readStateAt(new Appcmd({ runner, log, path: config.appcmd }), desired, config.deployRoot)
    const staged = {
      facts: { releaseId: 'r1', venvHash: 'venv1', pythonVersion: '3.11', pythonHome: t.pythonHome, wsgiApplication: '' },
      desired,
      releaseDir: layoutFor(config.deployRoot).releaseDir('r1'),
      releaseReused: false,
      venvReused: false,
      staticFiles: [],
      checkWarnings: [],
      configs: []
    } as unknown as StageResult
    const deps = { runner, log, env: {}, cwd: process.cwd(), setFailed: () => {} } as unknown as RunDeps
    const phases = new Phases(log)
    const ctx = contextFor(deps, config, phases)
    ctx.current = current
    ctx.stage = staged
    ctx.plan = await deployPlanFor(config, desired, current)
    await runSteps(ctx, applyAndVerify())
    const report: RunReport = reportFrom(deps, ctx, phases, undefined, [])
    const recycle = events.indexOf('recycle apppool')
    expect(recycle).toBeGreaterThanOrEqual(0)
    expect(events.slice(recycle + 1)[0]).toBe('GET /app/')
    expect(events.slice(0, recycle).some(e => e.startsWith('GET'))).toBe(false)
    const warm = log.lines.findIndex(l => l.includes('Warm-up request to'))
    expect(warm).toBeGreaterThanOrEqual(0)
    expect(report.checks.every(c => c.ok)).toBe(true)
    expect(fs.existsSync(layoutFor(config.deployRoot).releaseDir('r1'))).toBe(true)
  })
})
