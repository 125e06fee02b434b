import { afterEach, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { Appcmd, AppcmdError } from '../src/iis/appcmd.js'
import type { ProcessRunner } from '../src/process.js'
import { parsePool, readState } from '../src/iis/state.js'
import { apply, configFor, createTarget, stage, type Target } from './support/apply-fixture.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

describe('readState against the appcmd double', () => {
  it('reads a fresh server in 3 calls: no pool, site 1 with its binding, no app, no FastCGI', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    const desired = stage(target, config)
    const appcmd = new Appcmd({ runner: target.runner, log: target.log, path: target.sandbox.appcmdPath })
    const state = await readState(appcmd, desired, { handlersUnlocked: false, anonymousAsPool: false, httpPlatformNames: [] })
    expect(state).toEqual({
      pool: { exists: false },
      site: { exists: true, id: 1, bindings: [{ protocol: 'http', bindingInformation: '*:80:' }] },
      app: { exists: false },
      vdirs: [],
      fastCgi: [],
      handlersUnlocked: false,
      anonymousAsPool: false
    })
    expect(appcmd.reads).toBe(3)
    expect(appcmd.writes).toBe(0)
  })

  it('reads back what apply created', async () => {
    target = createTarget()
    const config = configFor(target, 'r1', { 'pool-identity': 'NetworkService' })
    const desired = stage(target, config, 'venv1', { staticUrl: '/app/assets/', forceScriptName: null })
    await apply(target, config, desired)
    const appcmd = new Appcmd({ runner: target.runner, log: target.log, path: target.sandbox.appcmdPath })
    const state = await readState(appcmd, desired, { handlersUnlocked: true, anonymousAsPool: true, httpPlatformNames: [] })
    expect(state.pool).toEqual({ exists: true, identity: 'NetworkService', managedRuntimeVersion: '' })
    expect(state.app).toEqual({ exists: true, pool: 'DefaultWebSite-app', physicalPath: desired.app.physicalPath })
    expect(state.vdirs).toEqual([{ path: '/assets', physicalPath: desired.staticVdir!.physicalPath }])
    expect(state.fastCgi).toEqual([
      {
        fullPath: desired.fastCgi!.fullPath,
        arguments: desired.fastCgi!.arguments,
        env: desired.fastCgi!.env.map(({ name, value }) => ({ name, value }))
      }
    ])
  })

  it('runs its reads side by side, and a failed read still fails the whole read', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    const desired = stage(target, config)
    const inner = target.runner
    let running = 0
    let most = 0
    const counting: ProcessRunner = {
      async run(file, args, options) {
        most = Math.max(most, ++running)
        try {
          return await inner.run(file, args, options)
        } finally {
          running--
        }
      }
    }
    const known = { handlersUnlocked: false, anonymousAsPool: false, httpPlatformNames: [] }
    const appcmd = new Appcmd({ runner: counting, log: target.log, path: target.sandbox.appcmdPath })
    const state = await readState(appcmd, desired, known)
    expect(appcmd.reads).toBe(3)
    expect(most).toBe(3)
    expect(state.site.exists).toBe(true)
    // One read refused (the pool's): the error is appcmd's, not an unhandled rejection of a read nobody awaited.
    const refusing: ProcessRunner = {
      run: async (file, args, options) =>
        args[1] === 'apppool'
          ? { exitCode: 13, stdout: 'ERROR ( message:Access denied. )', stderr: '', durationMs: 1 }
          : inner.run(file, args, options)
    }
    const err = await readState(new Appcmd({ runner: refusing, log: target.log, path: target.sandbox.appcmdPath }), desired, known).catch(
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(AppcmdError)
    expect((err as AppcmdError).appcmdMessage).toBe('Access denied.')
  })

  it('fails clearly, naming site-name, when the site does not exist', async () => {
    target = createTarget()
    const config = configFor(target, 'r1', { 'site-name': 'Intranet' })
    const desired = stage(target, config)
    const appcmd = new Appcmd({ runner: target.runner, log: target.log, path: target.sandbox.appcmdPath })
    const err = await readState(appcmd, desired, { handlersUnlocked: false, anonymousAsPool: false, httpPlatformNames: [] }).catch(
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(PhaseError)
    expect((err as PhaseError).message).toBe("IIS has no site named 'Intranet'")
    expect((err as PhaseError).hint).toMatch(/^set site-name to an existing IIS site/)
  })
})

describe('appcmd output that is not XML', () => {
  it('stops apply with a phase error that says which read it was', () => {
    const err = (() => {
      try {
        parsePool('<appcmd><APPPOOL APPPOOL.NAME="P">', 'P')
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(PhaseError)
    expect((err as PhaseError).phase).toBe('apply')
    expect((err as PhaseError).message).toMatch(/^appcmd's XML for app pool P is not well-formed XML: /)
  })
})
