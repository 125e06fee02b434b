/**
 * verify-before-switch over the appcmd double (docs/pre-switch.md): the plan's temporary site, its check and its
 * removal before the switch, executed as written; a failing check leaves the live release switched to nothing;
 * a run killed after the site was created is cleaned up by the next run; the input turns it all off.
 */
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { getInputs, type DeployConfig } from '../src/config.js'
import { PhaseError } from '../src/errors.js'
import { applyPlan } from '../src/iis/apply.js'
import { startJournal } from '../src/journal/deploy-journal.js'
import { recoverUnfinishedRun } from '../src/journal/recover.js'
import { layoutFor } from '../src/layout.js'
import { iisSteps, type PlanInput } from '../src/plan/build.js'
import { PRE_SWITCH_PREFIX, preSwitchSiteName } from '../src/plan/pre-switch-ops.js'
import type { RunContext } from '../src/flow/context.js'
import { preSwitchFor as flowPreSwitch } from '../src/flow/pre-switch.js'
import { markRelease, writeRelease } from '../src/releases.js'
import { apply, configFor, createTarget, planFor, stage, type Target } from './support/apply-fixture.js'
import { captureLog } from './support/iis-test-log.js'
import { EXAMPLE_APP } from './support/run-action.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

const TEMP = preSwitchSiteName({ site: 'Default Web Site', path: '/app' })

function preSwitchFor(t: Target): NonNullable<PlanInput['preSwitch']> {
  return {
    site: { name: TEMP, port: 48123, rootPath: path.join(t.deployRoot, 'pre-switch-root') },
    checkUrl: 'http://127.0.0.1:48123/app/'
  }
}

/** The app's root vdir as applicationHost.config holds it. */
function served(t: Target): string | undefined {
  return /<application path="\/app"[^>]*>\s*<virtualDirectory path="\/" physicalPath="([^"]*)"/.exec(t.sandbox.readConfig())?.[1]
}

const writes = (t: Target): string[] => t.sandbox.mutatingCalls().map(c => c.argv.join(' '))

/** r1 live and verified, then r2 staged: the state every scenario starts from. */
async function liveR1(t: Target): Promise<DeployConfig> {
  const r1 = configFor(t, 'r1')
  await apply(t, r1, stage(t, r1))
  const layout = layoutFor(r1.deployRoot)
  writeRelease(layout, { id: 'r1', createdAt: new Date().toISOString(), venvHash: 'venv1', target: { site: r1.siteName, appPath: '/app' } })
  markRelease(layout, 'r1', 'live')
  return configFor(t, 'r2')
}

describe('verify before the switch, over the appcmd double', () => {
  it('the plan creates, checks and removes the temporary site before the switch, and the deploy runs exactly that', async () => {
    target = createTarget()
    const t = target
    const r2 = await liveR1(t)
    const desired = stage(t, r2)
    const preSwitch = preSwitchFor(t)
    const plan = await planFor(t, r2, desired, t.runner, preSwitch)
    const phases = iisSteps(plan).map(s => s.phase)
    const first = phases.indexOf('pre-switch')
    expect(first).toBeGreaterThan(0)
    expect(phases.slice(first, phases.indexOf('switch'))).toEqual([
      ...phases.slice(first).filter(p => p === 'pre-switch'),
      'pre-switch-verify',
      'pre-switch-remove'
    ])
    const temp = iisSteps(plan).filter(s => s.phase.startsWith('pre-switch'))
    expect(temp[0]?.argv).toEqual([
      'add',
      'site',
      `/name:${TEMP}`,
      '/bindings:http/127.0.0.1:48123:',
      `/physicalPath:${preSwitch.site.rootPath}`,
      '/applicationDefaults.applicationPool:DefaultWebSite-app'
    ])
    expect(temp.map(s => s.argv.slice(0, 2).join(' '))).toContain('add app')
    // The pool's FastCGI processes are shared with the live app and may hold r1 (fcgi-one-registration): the
    // recycle comes after the temporary site and app exist and right before the check.
    const checkAt = temp.findIndex(s => s.phase === 'pre-switch-verify')
    expect(temp[checkAt - 1]).toMatchObject({ phase: 'pre-switch', argv: ['recycle', 'apppool', '/apppool.name:DefaultWebSite-app'] })
    expect(temp.find(s => s.phase === 'pre-switch-verify')).toMatchObject({ tool: 'verify', mutates: false })
    expect(temp.at(-1)?.argv).toEqual(['delete', 'site', TEMP])

    let siteDuringCheck = ''
    let writesBeforeCheck: string[] = []
    t.sandbox.resetCounters()
    await apply(t, r2, desired, {
      preSwitch,
      checkBeforeSwitch: async () => {
        siteDuringCheck = t.sandbox.readConfig()
        writesBeforeCheck = writes(t)
        // Not switched yet: the live app still serves r1 while the temporary site serves r2 in the same pool.
        expect(served(t)).toBe(layoutFor(r2.deployRoot).releaseDir('r1'))
      }
    })
    // Executed as planned: the double saw the pool recycled after the temporary site was added, before the check.
    expect(writesBeforeCheck.at(-1)).toBe('recycle apppool /apppool.name:DefaultWebSite-app')
    expect(writesBeforeCheck.findIndex(w => w.startsWith(`add site /name:${TEMP}`))).toBeGreaterThanOrEqual(0)
    expect(siteDuringCheck).toMatch(
      new RegExp(`<site name="${TEMP}"[^>]*>[\\s\\S]*<application path="/app" applicationPool="DefaultWebSite-app">`)
    )
    const planned = iisSteps(plan)
      .filter(s => s.mutates && s.tool === 'appcmd' && s.phase !== 'backup')
      .map(s => s.argv.join(' '))
    expect(writes(t).filter(w => !w.startsWith('add backup'))).toEqual(planned)
    // The site, its apps and vdirs are gone; its <location> entries stay, as after `delete app` (ac-delete-site).
    expect(t.sandbox.readConfig()).not.toMatch(new RegExp(`<site name="${PRE_SWITCH_PREFIX}`))
    expect(served(t)).toBe(layoutFor(r2.deployRoot).releaseDir('r2'))
  }, 300_000)

  it('a failing check stops the deploy before the switch: no switch write, the temporary site gone, r1 still served', async () => {
    target = createTarget()
    const t = target
    const r2 = await liveR1(t)
    t.sandbox.resetCounters()
    const failing = apply(t, r2, stage(t, r2), {
      preSwitch: preSwitchFor(t),
      checkBeforeSwitch: () => Promise.reject(new Error('main: HTTP 500 (0x80070005)'))
    })
    const error = await failing.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PhaseError)
    expect((error as PhaseError).message).toMatch(
      /failed verify through IIS before the switch \(main: HTTP 500 \(0x80070005\)\); the live release was not switched/
    )
    expect(writes(t).some(w => w.startsWith('set vdir "Default Web Site/app/"') || w.startsWith('set vdir Default Web Site/app/'))).toBe(
      false
    )
    expect(writes(t)).toContain(
      `add site /name:${TEMP} /bindings:http/127.0.0.1:48123: /physicalPath:${preSwitchFor(t).site.rootPath} /applicationDefaults.applicationPool:DefaultWebSite-app`
    )
    expect(writes(t)).toContain(`delete site ${TEMP}`)
    // The undo ends with a recycle: no FastCGI process the check started on r2 goes on answering live users.
    const recycles = writes(t).flatMap((w, i) => (w === 'recycle apppool /apppool.name:DefaultWebSite-app' ? [i] : []))
    expect(recycles).toHaveLength(2)
    expect(recycles[1]).toBeGreaterThan(writes(t).indexOf(`delete site ${TEMP}`))
    expect(t.sandbox.readConfig()).not.toMatch(new RegExp(`<site name="${PRE_SWITCH_PREFIX}`))
    expect(served(t)).toBe(layoutFor(r2.deployRoot).releaseDir('r1'))
  }, 300_000)

  it('a run killed after creating the temporary site is cleaned up by the next run from its journal', async () => {
    target = createTarget()
    const t = target
    const r2 = await liveR1(t)
    const configBefore = t.sandbox.readConfig()
    const layout = layoutFor(r2.deployRoot)
    const desired = stage(t, r2)
    writeRelease(layout, {
      id: 'r2',
      createdAt: new Date().toISOString(),
      venvHash: 'venv1',
      target: { site: r2.siteName, appPath: '/app' }
    })
    const plan = await planFor(t, r2, desired, t.runner, preSwitchFor(t))
    const journal = startJournal(layout, plan, 'r2')
    // Killed in the check, as by kill -9: the temporary site exists and nothing after it ran.
    const never = new Promise<never>(() => {})
    let reached!: () => void
    const atCheck = new Promise<void>(resolve => (reached = resolve))
    const deps = {
      runner: t.runner,
      log: t.log,
      appcmdPath: t.sandbox.appcmdPath,
      icaclsPath: t.sandbox.icaclsPath,
      checkBeforeSwitch: () => {
        reached()
        return never
      }
    }
    void applyPlan(deps, plan, journal)
    await atCheck
    expect(t.sandbox.readConfig()).toContain(`<site name="${TEMP}"`)

    const log = captureLog()
    const recovery = await recoverUnfinishedRun({
      runner: t.runner,
      log,
      appcmdPath: t.sandbox.appcmdPath,
      icaclsPath: t.sandbox.icaclsPath,
      deployRoot: r2.deployRoot,
      target: { site: r2.siteName, appPath: r2.appPath }
    })
    expect(recovery).toBeDefined()
    expect(t.sandbox.mutatingCalls().map(c => c.argv.join(' '))).toContain(`delete site ${TEMP}`)
    const after = t.sandbox.readConfig()
    expect(after).not.toContain(`<site name="${TEMP}"`)
    // Only the temporary location's entries stay (docs/windows-facts.md, ac-delete-site), as after `delete app`.
    const withoutTempLocations = after.replace(new RegExp(` *<location path="${TEMP}[^"]*"[^>]*>[\\s\\S]*?</location>\\n`, 'g'), '')
    expect(withoutTempLocations).toBe(configBefore)
    expect(served(t)).toBe(layout.releaseDir('r1'))
  }, 300_000)

  it('a verify that fails after a passed check rolls back by inverses, without touching the deleted temporary site', async () => {
    target = createTarget()
    const t = target
    const r2 = await liveR1(t)
    const applied = await apply(t, r2, stage(t, r2), { preSwitch: preSwitchFor(t), checkBeforeSwitch: () => Promise.resolve() })
    t.sandbox.resetCounters()
    const rb = await applied.rollback()
    expect(rb.ok).toBe(true)
    const undo = writes(t)
    expect(undo.some(w => w.startsWith('restore backup'))).toBe(false)
    expect(undo.some(w => w.includes(PRE_SWITCH_PREFIX))).toBe(false)
    expect(served(t)).toBe(layoutFor(r2.deployRoot).releaseDir('r1'))
  }, 300_000)

  it('costs a code change six appcmd writes below the site root: the site, the app, two location settings, the recycle, the delete', async () => {
    target = createTarget()
    const t = target
    const r2 = await liveR1(t)
    t.sandbox.resetCounters()
    await apply(t, r2, stage(t, r2))
    const without = writes(t)
    const r3 = configFor(t, 'r3')
    t.sandbox.resetCounters()
    await apply(t, r3, stage(t, r3), { preSwitch: preSwitchFor(t), checkBeforeSwitch: () => Promise.resolve() })
    const withCheck = writes(t)
    // The sixth is the recycle before the check (FastCGI hosting); the recycle after the switch was there before.
    expect(withCheck.length - without.length).toBe(6)
    expect(withCheck.filter(w => w === 'recycle apppool /apppool.name:DefaultWebSite-app')).toHaveLength(2)
    expect(withCheck.filter(w => w.includes(PRE_SWITCH_PREFIX)).map(w => w.split(' ').slice(0, 2).join(' '))).toEqual([
      'add site',
      'add app',
      'unlock config',
      'set config',
      'delete site'
    ])
  }, 300_000)

  it('hosting httpplatform: no recycle before the check, HttpPlatformHandler starts a process per application', async () => {
    target = createTarget()
    const t = target
    const hp = { hosting: 'httpplatform' }
    const r1 = configFor(t, 'r1', hp)
    await apply(t, r1, stage(t, r1))
    const r2 = configFor(t, 'r2', hp)
    const plan = await planFor(t, r2, stage(t, r2), t.runner, preSwitchFor(t))
    const temp = iisSteps(plan).filter(s => s.phase.startsWith('pre-switch'))
    expect(temp[0]?.argv.slice(0, 2)).toEqual(['add', 'site'])
    expect(temp.some(s => s.argv[0] === 'recycle')).toBe(false)
  }, 300_000)

  it('verify-before-switch defaults to true and false turns it off: no temporary site in the plan', async () => {
    target = createTarget()
    const t = target
    const r2 = await liveR1(t)
    const read = (extra: Record<string, string>): DeployConfig =>
      getInputs(
        name => ({ 'app-dir': EXAMPLE_APP, 'deploy-root': t.deployRoot, 'app-path': '/app', 'release-id': 'r2', ...extra })[name] ?? '',
        {},
        EXAMPLE_APP
      )
    const ctxOf = (config: DeployConfig): RunContext => ({ config, layout: layoutFor(config.deployRoot) }) as RunContext
    const on = await flowPreSwitch(ctxOf(read({})))
    expect(on?.site.name).toBe(TEMP)
    expect(on?.site.port).toBeGreaterThan(0)
    expect(on?.checkUrl).toBe(`http://127.0.0.1:${on?.site.port}/app/`)
    const off = await flowPreSwitch(ctxOf(read({ 'verify-before-switch': 'false' })))
    expect(off).toBeUndefined()
    const plan = await planFor(t, r2, stage(t, r2), t.runner, off)
    expect(iisSteps(plan).some(s => s.phase.startsWith('pre-switch'))).toBe(false)
    expect(iisSteps(plan).some(s => s.phase === 'switch')).toBe(true)
  }, 300_000)
})
