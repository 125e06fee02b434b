import { afterEach, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { Appcmd } from '../src/iis/appcmd.js'
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
