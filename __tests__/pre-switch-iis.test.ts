/**
 * verify-before-switch through the IIS stand-in: the temporary site is served on its own loopback port by the same
 * pool, and verify's own checks (moved there by src/verify/pre-switch.ts) judge it. A release the pool identity
 * may not read fails there, as IIS answers it (500.19, 0x80070005), before the switch: the live release stays.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DeployConfig } from '../src/config.js'
import { diagnoseAll, evidenceFromChecks } from '../src/diagnose.js'
import { PhaseError } from '../src/errors.js'
import { freeLoopbackPort } from '../src/loopback-port.js'
import { layoutFor } from '../src/layout.js'
import { preSwitchOrigin, preSwitchSiteName, PRE_SWITCH_PREFIX } from '../src/plan/pre-switch-ops.js'
import type { PlanInput } from '../src/plan/build.js'
import { runChecks, verifyPlan, type UrlCheckResult } from '../src/verify/checks.js'
import { preSwitchVerifyPlan } from '../src/verify/pre-switch.js'
import { apply, configFor, createTarget, stage, type Target } from './support/apply-fixture.js'
import { captureLog } from './support/iis-test-log.js'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'
import { startIisStandin, type IisStandin } from './support/iis-standin.mjs'

let target: Target | undefined
let standin: IisStandin | undefined
afterEach(async () => {
  await standin?.close()
  target?.cleanup()
})

const FILE = 'static/hello.txt'

/** A release whose static file verify asks for: the stand-in serves it through the seed's StaticFile handler. */
function stageWithFile(t: Target, config: DeployConfig) {
  const desired = stage(t, config)
  fs.writeFileSync(
    path.join(layoutFor(config.deployRoot).releaseDir(config.releaseId), ...FILE.split('/')),
    `release ${config.releaseId}\n`
  )
  return desired
}

async function preSwitchFor(t: Target, config: DeployConfig): Promise<NonNullable<PlanInput['preSwitch']>> {
  const site = {
    name: preSwitchSiteName({ site: config.siteName, path: config.appPath }),
    port: await freeLoopbackPort(),
    rootPath: path.join(t.deployRoot, 'pre-switch-root')
  }
  fs.mkdirSync(site.rootPath, { recursive: true })
  return { site, checkUrl: `${preSwitchOrigin(site)}/app/${FILE}` }
}

/** The flow's check (src/flow/pre-switch.ts) from the same parts: verify's plan, moved to the temporary site. */
function checkOn(config: DeployConfig, origin: () => string, seen: UrlCheckResult[][]) {
  return async () => {
    const { plan } = preSwitchVerifyPlan(verifyPlan(config.verify), origin())
    const checks = await runChecks(plan, captureLog())
    seen.push(checks)
    const failed = checks.filter(c => !c.ok)
    if (failed.length > 0) throw new Error(failed.map(c => `${c.name}: ${c.detail}`).join('; '))
  }
}

/** Swallows the grants on one folder, answering as icacls does when it succeeds: a grant that did not take. */
/**
 * The release folder stops inheriting the releases folder's grant, as after an administrator's
 * `icacls <release> /inheritance:r`: the pool may no longer read it.
 */
async function stopInheritance(t: Target, folder: string): Promise<void> {
  const result = await t.runner.run(t.sandbox.icaclsPath, [folder, '/inheritance:r'], {})
  expect(result.exitCode).toBe(0)
}

/**
 * A release served through FastCGI by the stand-in's wfastcgi-like launcher: its web.config names the registration
 * (fullPath|arguments) as every release's does and holds the appSettings wfastcgi reads; its `hello.wsgi` answers
 * with the release id, or raises. The venv's python is the system one (waitress), so releases share the venv.
 */
function stageWithApp(t: Target, config: DeployConfig, raises: boolean) {
  const desired = stage(t, config)
  const fcgi = desired.fastCgi
  if (!fcgi) throw new Error('the fixture plans FastCGI hosting')
  const python = fcgi.fullPath
  if (!fs.existsSync(python)) {
    fs.mkdirSync(path.dirname(python), { recursive: true })
    fs.symlinkSync(SYSTEM_PYTHON, python)
  }
  const release = layoutFor(config.deployRoot).releaseDir(config.releaseId)
  const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
  fs.writeFileSync(
    path.join(release, 'web.config'),
    `<configuration>
  <appSettings>
    <add key="PYTHONPATH" value="${attr(release)}" />
    <add key="WSGI_HANDLER" value="hello.wsgi.application" />
    <add key="SCRIPT_NAME" value="/app" />
  </appSettings>
  <system.webServer><handlers>
    <add name="Python FastCGI" path="*" verb="*" modules="FastCgiModule" scriptProcessor="${attr(`${fcgi.fullPath}|${fcgi.arguments}`)}" resourceType="Unspecified" />
  </handlers></system.webServer>
</configuration>
`
  )
  fs.mkdirSync(path.join(release, 'hello'), { recursive: true })
  fs.writeFileSync(path.join(release, 'hello', '__init__.py'), '')
  const body = raises
    ? "    raise RuntimeError('this release is broken')\n"
    : `    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'release ${config.releaseId}\\n']\n`
  fs.writeFileSync(path.join(release, 'hello', 'wsgi.py'), `def application(environ, start_response):\n${body}`)
  return desired
}

const servedPath = (t: Target): string | undefined =>
  /<application path="\/app"[^>]*>\s*<virtualDirectory path="\/" physicalPath="([^"]*)"/.exec(t.sandbox.readConfig())?.[1]

describe('verify before the switch through the IIS stand-in', () => {
  it('serves the new release on the temporary site in the same pool, passes, switches, and leaves no temporary site', async () => {
    target = createTarget()
    const t = target
    standin = await startIisStandin({ configPath: t.sandbox.configPath, aclLog: t.sandbox.env.ICACLS_DOUBLE_LOG })
    const inputs = { 'verify-url': `${standin.url}/app/${FILE}`, 'verify-timeout': '10' }
    const r1 = configFor(t, 'r1', inputs)
    await apply(t, r1, stageWithFile(t, r1))
    expect(await (await fetch(`${standin.url}/app/${FILE}`)).text()).toBe('release r1\n')

    const r2 = configFor(t, 'r2', inputs)
    const preSwitch = await preSwitchFor(t, r2)
    const seen: UrlCheckResult[][] = []
    await apply(t, r2, stageWithFile(t, r2), { preSwitch, checkBeforeSwitch: checkOn(r2, () => preSwitchOrigin(preSwitch.site), seen) })
    expect(seen).toHaveLength(1)
    expect(seen[0]?.every(c => c.ok && c.url.startsWith(`http://127.0.0.1:${preSwitch.site.port}/app/`))).toBe(true)
    expect(t.sandbox.readConfig()).not.toMatch(new RegExp(`<site name="${PRE_SWITCH_PREFIX}`))
    expect(servedPath(t)).toBe(layoutFor(r2.deployRoot).releaseDir('r2'))
    expect(await (await fetch(`${standin.url}/app/${FILE}`)).text()).toBe('release r2\n')
  }, 300_000)

  it('a release the pool may not read fails before the switch with 0x80070005 and its diagnosis, r1 stays live', async () => {
    target = createTarget()
    const t = target
    standin = await startIisStandin({ configPath: t.sandbox.configPath, aclLog: t.sandbox.env.ICACLS_DOUBLE_LOG })
    const inputs = { 'verify-url': `${standin.url}/app/${FILE}`, 'verify-timeout': '3' }
    const r1 = configFor(t, 'r1', inputs)
    await apply(t, r1, stageWithFile(t, r1))

    const r2 = configFor(t, 'r2', inputs)
    const preSwitch = await preSwitchFor(t, r2)
    const seen: UrlCheckResult[][] = []
    // Not resetCounters: it forgets the icacls log too, which is the stand-in's record of r1's grant.
    const callsBefore = t.sandbox.mutatingCalls().length
    const staged = stageWithFile(t, r2)
    await stopInheritance(t, layoutFor(r2.deployRoot).releaseDir('r2'))
    const error = await apply(t, r2, staged, {
      preSwitch,
      checkBeforeSwitch: checkOn(r2, () => preSwitchOrigin(preSwitch.site), seen)
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PhaseError)
    expect((error as Error).message).toMatch(/before the switch \(main: HTTP 500/)
    const checks = seen[0] ?? []
    expect(checks.find(c => c.name === 'main')?.bodyStart).toContain('0x80070005')
    expect(diagnoseAll(evidenceFromChecks(checks)).map(h => h.id)).toContain('config-unreadable')
    // No switch was written: the live app never left r1, and the temporary site is gone.
    const writes = t.sandbox
      .mutatingCalls()
      .slice(callsBefore)
      .map(c => c.argv.join(' '))
    expect(writes.filter(w => /^set vdir .*Default Web Site\/app\//.test(w))).toEqual([])
    expect(writes).toContain(`delete site ${preSwitch.site.name}`)
    expect(t.sandbox.readConfig()).not.toMatch(new RegExp(`<site name="${PRE_SWITCH_PREFIX}`))
    expect(servedPath(t)).toBe(layoutFor(r1.deployRoot).releaseDir('r1'))
    expect(await (await fetch(`${standin.url}/app/${FILE}`)).text()).toBe('release r1\n')
  }, 300_000)

  it('a code change whose / raises fails the check even with an idle FastCGI process holding the live release', async () => {
    target = createTarget()
    const t = target
    // FastCGI processes per worker process and registration, kept until a recycle (st-worker): without the recycle
    // before the check, the idle process started on r1 would answer the temporary site with r1, a false pass.
    standin = await startIisStandin({ configPath: t.sandbox.configPath, fastCgiPerWorker: true })
    const inputs = { 'verify-url': `${standin.url}/app/`, 'verify-timeout': '3' }
    const r1 = configFor(t, 'r1', inputs)
    await apply(t, r1, stageWithApp(t, r1, false))
    const live = async () => {
      const answer = await fetch(`${standin?.url ?? ''}/app/`)
      return `${answer.status} ${await answer.text()}`
    }
    expect(await live()).toBe('200 release r1\n')
    const r1Process = standin.backend()
    expect(r1Process?.physicalPath).toBe(layoutFor(r1.deployRoot).releaseDir('r1'))

    const r2 = configFor(t, 'r2', inputs)
    const preSwitch = await preSwitchFor(t, r2)
    preSwitch.checkUrl = `${preSwitchOrigin(preSwitch.site)}/app/`
    const seen: UrlCheckResult[][] = []
    const error = await apply(t, r2, stageWithApp(t, r2, true), {
      preSwitch,
      checkBeforeSwitch: checkOn(r2, () => preSwitchOrigin(preSwitch.site), seen)
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PhaseError)
    expect((error as Error).message).toMatch(/before the switch \(main: HTTP 500/)
    // The check met r2 in a process the check itself started, not r1's idle one.
    expect(seen[0]?.every(c => c.url.startsWith(`http://127.0.0.1:${preSwitch.site.port}/app/`))).toBe(true)
    expect(t.sandbox.readConfig()).not.toMatch(new RegExp(`<site name="${PRE_SWITCH_PREFIX}`))
    expect(servedPath(t)).toBe(layoutFor(r1.deployRoot).releaseDir('r1'))
    // The undo recycled the pool: the live app is answered by a new process on r1, not by the check's r2 one.
    expect(await live()).toBe('200 release r1\n')
    expect(standin.backend()?.physicalPath).toBe(layoutFor(r1.deployRoot).releaseDir('r1'))
    expect(standin.backend()?.pid).not.toBe(r1Process?.pid)
  }, 300_000)
})
