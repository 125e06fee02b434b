/**
 * SSO deploys against the appcmd double, the real SP checker (shibd -t) and net.exe's double: when the IIS module's
 * site list (<ISAPI>) or the host changes, the pools of the site's apps are recycled after the SP change; a no-op
 * redeploy recycles nothing; verify asks the SP's Session handler at the site root.
 */
import fs from 'node:fs'
import type http from 'node:http'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { contextFor, type RunDeps } from '../src/flow/context.js'
import { applyAndVerify } from '../src/flow/modes.js'
import { reportFrom } from '../src/flow/outcome.js'
import { runSteps } from '../src/flow/steps.js'
import { Appcmd } from '../src/iis/appcmd.js'
import { layoutFor } from '../src/layout.js'
import { readStateAt } from '../src/iis/state.js'
import { Phases } from '../src/phases.js'
import { stateQuery } from '../src/plan/desired.js'
import { deployPlanFor } from '../src/plan/plan-output.js'
import { execRunner } from '../src/process.js'
import { readRelease, writeRelease } from '../src/releases.js'
import type { RunReport } from '../src/report.js'
import { moduleRecycleReason, isapiSection } from '../src/shibboleth/isapi.js'
import { parseSiteApps, recycleSitePools } from '../src/shibboleth/recycle.js'
import type { StageResult } from '../src/stage.js'
import { configFor, createTarget, stage, type Target } from './support/apply-fixture.js'
import { countingRunner, type CountingRunner } from './support/counting-runner.js'
import { sandboxRunner } from './support/iis-sandbox.js'
import { captureLog } from './support/iis-test-log.js'
import { FIXTURES, tempDir } from './support/shibboleth-support.js'
import { serve, track } from './support/verify-servers.js'

const FIXTURE = fs.readFileSync(path.join(FIXTURES, 'iis-bom-crlf.xml'), 'utf8')
/** The fixture with IIS site 1 missing from <ISAPI>: a deploy to site 1 adds it. */
const WITHOUT_SITE_1 = FIXTURE.replace('<Site id="1" name="www.example.edu">', '<Site id="7" name="www.example.edu">')

let target: Target | undefined
afterEach(() => target?.cleanup())

describe('what makes the IIS workers restart', () => {
  it('an added or renamed ISAPI Site does; comments and indentation inside ISAPI do not', () => {
    expect(isapiSection(FIXTURE)).toContain('<Site id="1" name="www.example.edu"><Alias >"example.edu"</Alias></Site>')
    expect(moduleRecycleReason(WITHOUT_SITE_1, FIXTURE, 'www.example.edu')).toBe('the <ISAPI> site list changed')
    expect(moduleRecycleReason(undefined, FIXTURE, 'www.example.edu')).toBe('the <ISAPI> site list changed')
    const reformatted = FIXTURE.replace("<Site id='2'", "<!-- moved -->\r\n            <Site  id='2'")
    expect(moduleRecycleReason(FIXTURE, reformatted, 'www.example.edu')).toBeUndefined()
  })

  it('a host new to the RequestMap does, even when ISAPI already maps it through an Alias; a REMOTE_USER change does not', () => {
    expect(moduleRecycleReason(FIXTURE, FIXTURE, 'example.edu')).toBe('shibboleth-host example.edu is new to the RequestMap')
    expect(moduleRecycleReason(FIXTURE, FIXTURE, 'WWW.example.edu')).toBeUndefined()
    const remoteUser = FIXTURE.replace('REMOTE_USER="eppn subject-id pairwise-id persistent-id"', 'REMOTE_USER="eppn"')
    expect(moduleRecycleReason(FIXTURE, remoteUser, 'www.example.edu')).toBeUndefined()
  })
})

describe('recycleSitePools against the appcmd double', () => {
  it("parses appcmd's app lines, root app included", () => {
    expect(
      parseSiteApps('APP "Default Web Site/" (applicationPool:DefaultAppPool)\r\nAPP "Default Web Site/app" (applicationPool:Pool (x))\r\n')
    ).toEqual([
      { app: 'Default Web Site/', pool: 'DefaultAppPool' },
      { app: 'Default Web Site/app', pool: 'Pool (x)' }
    ])
  })

  it("recycles the root app's pool first, each pool once, and not one this run already recycled", async () => {
    target = createTarget()
    const { sandbox } = target
    // A second app in the root's pool and one in its own pool.
    const seeded = sandbox
      .readConfig()
      .replace('<add name="DefaultAppPool" />', '<add name="DefaultAppPool" /><add name="ReportsPool" /><add name="OtherPool" />')
      .replace(
        '<bindings>',
        '<application path="/docs" applicationPool="DefaultAppPool"><virtualDirectory path="/" physicalPath="C:\\docs" /></application>' +
          '<application path="/reports" applicationPool="ReportsPool"><virtualDirectory path="/" physicalPath="C:\\reports" /></application><bindings>'
      )
    fs.writeFileSync(sandbox.configPath, seeded)
    const appcmd = new Appcmd({ runner: target.runner, log: target.log, path: sandbox.appcmdPath })
    const result = await recycleSitePools(appcmd, target.log, 'Default Web Site', ['reportspool'])
    expect(result).toEqual({ pools: ['DefaultAppPool', 'ReportsPool'], recycled: ['DefaultAppPool', 'ReportsPool'], failed: [] })
    expect(sandbox.mutatingCalls().map(c => c.argv.join(' '))).toEqual(['recycle apppool /apppool.name:DefaultAppPool'])
  })

  it('a stopped pool is left to start fresh; a recycle appcmd refuses is reported, not thrown', async () => {
    target = createTarget()
    const { sandbox } = target
    const appcmd = new Appcmd({ runner: target.runner, log: target.log, path: sandbox.appcmdPath })
    await appcmd.run({ argv: ['stop', 'apppool', '/apppool.name:DefaultAppPool'], mutates: true })
    const stopped = await recycleSitePools(appcmd, target.log, 'Default Web Site')
    expect(stopped).toEqual({ pools: ['DefaultAppPool'], recycled: [], failed: [] })
    expect(target.log.lines).toContain('info: App pool DefaultAppPool is stopped: its workers read the changed file when it starts.')

    await appcmd.run({ argv: ['start', 'apppool', '/apppool.name:DefaultAppPool'], mutates: true })
    sandbox.resetCounters()
    sandbox.failAt(1)
    const refused = await recycleSitePools(appcmd, target.log, 'Default Web Site')
    expect(refused.recycled).toEqual([])
    expect(refused.failed).toEqual([
      expect.stringMatching(
        /^recycling app pool DefaultAppPool \(appcmd recycle apppool \/apppool\.name:DefaultAppPool failed \(exit 32, locked\)/
      )
    ])
  })

  it('a site without apps is reported, not thrown', async () => {
    target = createTarget()
    const appcmd = new Appcmd({ runner: target.runner, log: target.log, path: target.sandbox.appcmdPath })
    const result = await recycleSitePools(appcmd, target.log, 'No Such Site')
    expect(result.recycled).toEqual([])
    expect(result.failed).toEqual(['site No Such Site lists no root app, whose pool answers /Shibboleth.sso/*'])
  })
})

interface SsoServer {
  url: string
  sessionHits: () => number
}

/** The site as the SP would serve it: the app redirects to the SP's handler; /Shibboleth.sso/Session as `session` says. */
async function ssoSite(session: (res: http.ServerResponse) => void): Promise<SsoServer> {
  let hits = 0
  const s = await track(
    serve((req, res) => {
      if (req.url?.startsWith('/Shibboleth.sso/Session')) {
        hits++
        session(res)
      } else res.writeHead(302, { location: `/Shibboleth.sso/Login?target=${encodeURIComponent(req.url ?? '/')}` }).end()
    })
  )
  return { url: s.url, sessionHits: () => hits }
}

/** The Session handler's page for a caller without a session (docs/windows-facts.md, sp-session-handler). */
const sessionPage = (res: http.ServerResponse): void => {
  res
    .writeHead(200, { 'content-type': 'text/html; charset=UTF-8' })
    .end('<html><head><title>Session Summary</title></head><body><pre>\nA valid session was not found.</pre></body></html>\n')
}
/** What IIS answers itself when no module handles the request (StaticFile at the site root). */
const iisNotFound = (res: http.ServerResponse): void => {
  res
    .writeHead(404, { 'content-type': 'text/html' })
    .end(
      '<h3>HTTP Error 404.0 - Not Found</h3>\n<h4>The resource you are looking for has been removed, had its name changed, or is temporarily unavailable.</h4>'
    )
}

interface Sso {
  target: Target
  runner: CountingRunner
  spConfig: string
  netLog: string
  /** `inputs` overrides the SSO inputs, e.g. another auth mode. */
  deploy(
    releaseId: string,
    host: string,
    site: { url: string },
    inputs?: Record<string, string>
  ): Promise<{ report: RunReport; error?: Error }>
}

function ssoTarget(spText: string): Sso {
  const t = createTarget()
  target = t
  const sp = tempDir('sso-sp-')
  const spConfig = path.join(sp, 'shibboleth2.xml')
  fs.writeFileSync(spConfig, `\uFEFF${spText.replace(/^\uFEFF/, '')}`)
  const bin = path.join(sp, 'bin')
  fs.mkdirSync(bin)
  fs.copyFileSync(path.join(FIXTURES, 'net-double.sh'), path.join(bin, 'net'))
  fs.chmodSync(path.join(bin, 'net'), 0o755)
  // One runner for every tool, in call order: net (the SP restart; programs are found on the test's own PATH, so
  // net.exe's name goes to its double here), shibd, appcmd, icacls.
  const inner = sandboxRunner(t.sandbox, execRunner)
  const runner = countingRunner({ run: (file, args, options) => inner.run(file === 'net' ? path.join(bin, 'net') : file, args, options) })
  return {
    target: t,
    runner,
    spConfig,
    netLog: path.join(bin, 'net-calls.log'),
    async deploy(releaseId, host, site, inputs = {}) {
      const log = captureLog()
      const config = configFor(t, releaseId, {
        appcmd: t.sandbox.appcmdPath,
        icacls: t.sandbox.icaclsPath,
        shibboleth: 'true',
        'shibboleth-config': spConfig,
        'shibboleth-host': host,
        'shibboleth-check': 'shibd -t -c {config}',
        'verify-url': `${site.url}app/`,
        'verify-timeout': '2',
        'verify-interval': '0.05',
        ...inputs
      })
      const desired = stage(t, config)
      if (!readRelease(layoutFor(config.deployRoot), releaseId))
        writeRelease(layoutFor(config.deployRoot), { id: releaseId, createdAt: new Date().toISOString(), venvHash: 'venv1' })
      const appcmd = new Appcmd({ runner, log, path: config.appcmd })
      const current = await readStateAt(appcmd, stateQuery(config), config.deployRoot)
      const staged: StageResult = {
        facts: {
          releaseId,
          venvHash: 'venv1',
          pythonVersion: '3.11',
          pythonHome: t.pythonHome,
          wsgiApplication: 'hello.wsgi.application',
          staticSettings: { staticUrl: 'static/', forceScriptName: null }
        },
        desired,
        releaseDir: layoutFor(config.deployRoot).releaseDir(releaseId),
        releaseReused: false,
        venvReused: false,
        staticFiles: [],
        checkWarnings: [],
        configs: []
      }
      const deps = { runner, log, env: {}, cwd: process.cwd(), setFailed: () => {} } as unknown as RunDeps
      const phases = new Phases(log)
      const ctx = contextFor(deps, config, phases)
      runner.reset()
      t.sandbox.resetCounters()
      ctx.current = current
      ctx.stage = staged
      ctx.plan = await deployPlanFor(config, desired, current)
      let error: Error | undefined
      try {
        await runSteps(ctx, applyAndVerify())
      } catch (thrown) {
        error = thrown as Error
      }
      const report: RunReport = reportFrom(deps, ctx, phases, error, [])
      return error ? { report, error } : { report }
    }
  }
}

/** Every process call in order, as `<program> <args>`. */
const callOrder = (runner: CountingRunner): string[] => runner.calls.map(c => `${path.basename(c.file)} ${c.args.join(' ')}`)
const recycles = (sso: Sso): string[] =>
  sso.target.sandbox
    .mutatingCalls()
    .map(c => c.argv.join(' '))
    .filter(a => a.startsWith('recycle'))
const netCalls = (sso: Sso): string[] => (fs.existsSync(sso.netLog) ? fs.readFileSync(sso.netLog, 'utf8').trim().split('\n') : [])

describe('SSO deploys recycle the pools that serve the site when the IIS module must reload its site list', () => {
  it(
    "an <ISAPI> change recycles the site root's pool after the SP restart, and a no-op redeploy recycles nothing",
    { timeout: 120_000 },
    async () => {
      const sso = ssoTarget(WITHOUT_SITE_1)
      const site = await ssoSite(sessionPage)
      const first = await sso.deploy('r1', 'www.example.edu', site)
      expect(first.error).toBeUndefined()
      expect(fs.readFileSync(sso.spConfig, 'utf8')).toContain('<Site id="1" name="www.example.edu"/>')

      // The root app "Default Web Site/" runs in DefaultAppPool (the seed's applicationDefaults).
      const rootApp = await new Appcmd({
        runner: sandboxRunner(sso.target.sandbox),
        log: captureLog(),
        path: sso.target.sandbox.appcmdPath
      }).read('list', 'app', 'Default Web Site/')
      expect(rootApp.trim()).toBe('APP "Default Web Site/" (applicationPool:DefaultAppPool)')
      // From the double's call log: the app's pool once (by apply, after its switch), the root app's pool by the SP step.
      expect(recycles(sso)).toEqual(['recycle apppool /apppool.name:DefaultWebSite-app', 'recycle apppool /apppool.name:DefaultAppPool'])
      const order = callOrder(sso.runner)
      const spRestarted = order.indexOf('net start shibd_Default')
      expect(spRestarted).toBeGreaterThan(-1)
      expect(order.indexOf('appcmd recycle apppool /apppool.name:DefaultAppPool')).toBeGreaterThan(spRestarted)
      expect(order.indexOf('appcmd recycle apppool /apppool.name:DefaultWebSite-app')).toBeGreaterThan(spRestarted)
      expect(first.report.shibboleth).toEqual({ changed: true, restarted: true, recycledPools: ['DefaultAppPool', 'DefaultWebSite-app'] })
      expect(first.report.checks.find(c => c.kind === 'sso-handler')).toMatchObject({
        ok: true,
        url: `${site.url}Shibboleth.sso/Session`,
        status: 200
      })
      expect(site.sessionHits()).toBeGreaterThan(0)

      const netBefore = netCalls(sso)
      const again = await sso.deploy('r1', 'www.example.edu', site)
      expect(again.error).toBeUndefined()
      expect(again.report.shibboleth).toEqual({ changed: false, restarted: false })
      expect(sso.target.sandbox.mutatingCalls()).toEqual([])
      expect(netCalls(sso)).toEqual(netBefore)
    }
  )

  it('a change of shibboleth-host alone (IIS already right) recycles the root and app pools', { timeout: 120_000 }, async () => {
    const sso = ssoTarget(FIXTURE)
    const site = await ssoSite(sessionPage)
    // www.example.edu is already Site 1's name: the first deploy only adds the Path, and the SP step recycles nothing.
    const first = await sso.deploy('r1', 'www.example.edu', site)
    expect(first.error).toBeUndefined()
    expect(recycles(sso)).toEqual(['recycle apppool /apppool.name:DefaultWebSite-app'])
    expect(first.report.shibboleth?.recycledPools).toBeUndefined()

    // Same release, another host (Site 1's Alias): IIS needs no write, only the SP file changes.
    const second = await sso.deploy('r1', 'example.edu', site)
    expect(second.error).toBeUndefined()
    const calls = sso.target.sandbox.mutatingCalls().map(c => c.argv.join(' '))
    expect(calls).toEqual(['recycle apppool /apppool.name:DefaultAppPool', 'recycle apppool /apppool.name:DefaultWebSite-app'])
    const order = callOrder(sso.runner)
    expect(order.indexOf('appcmd recycle apppool /apppool.name:DefaultAppPool')).toBeGreaterThan(order.indexOf('net start shibd_Default'))
  })

  it(
    "fails verify when /Shibboleth.sso/Session answers IIS's 404, names the Site id and the recycle, and recycles again after restoring the SP",
    { timeout: 120_000 },
    async () => {
      const sso = ssoTarget(WITHOUT_SITE_1)
      const before = fs.readFileSync(sso.spConfig)
      const site = await ssoSite(iisNotFound)
      const { report, error } = await sso.deploy('r1', 'www.example.edu', site)
      expect(error?.message).toMatch(
        /verify failed \(sso-handler: HTTP 404 from IIS, not the SP's Session handler: .*does not map IIS site id 1; shibboleth2\.xml needs <ISAPI><Site id="1" name="www\.example\.edu">/
      )
      expect(report.hints.map(h => h.id)).toContain('sso-site-unknown')
      expect(report.hints.find(h => h.id === 'sso-site-unknown')?.hint).toMatch(/recycle the pool of every app of the site/)
      expect(fs.readFileSync(sso.spConfig).equals(before)).toBe(true)
      // Recycled for the patched file, then again for the restored one, after its restart.
      const order = callOrder(sso.runner)
      const rootRecycles = order.map((c, i) => (c === 'appcmd recycle apppool /apppool.name:DefaultAppPool' ? i : -1)).filter(i => i >= 0)
      expect(rootRecycles).toHaveLength(2)
      expect(rootRecycles[1]).toBeGreaterThan(order.lastIndexOf('net start shibd_Default'))
      expect(report.rollback?.detail).toMatch(/shibboleth2\.xml; IIS module site list \(recycled DefaultAppPool/)
    }
  )
})

describe('leaving auth: shibboleth in a deploy', () => {
  it(
    'shibboleth → windows → anonymous → shibboleth: the entry goes and comes back, and a repeated mode leaves the SP alone',
    { timeout: 120_000 },
    async () => {
      const sso = ssoTarget(FIXTURE)
      const original = fs.readFileSync(sso.spConfig)
      const site = await ssoSite(sessionPage)
      // Windows Authentication as IIS answers an anonymous request; an app anyone may use.
      const windowsSite = await track(serve((_req, res) => res.writeHead(401, { 'www-authenticate': 'Negotiate' }).end()))
      const openSite = await track(serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>')))

      // example.edu is Site 1's Alias: the deploy adds only the RequestMap Host for it.
      expect((await sso.deploy('r1', 'example.edu', site)).error).toBeUndefined()
      const protectedFile = fs.readFileSync(sso.spConfig)

      const toWindows = await sso.deploy('r1', 'example.edu', windowsSite, { shibboleth: 'false', auth: 'windows' })
      expect(toWindows.error).toBeUndefined()
      expect(fs.readFileSync(sso.spConfig).equals(original)).toBe(true)
      // The Host left the RequestMap: the site's workers restart on the file without it, as when it was added.
      expect(toWindows.report.shibboleth).toMatchObject({ changed: true, restarted: true })
      expect(toWindows.report.shibboleth?.recycledPools).toContain('DefaultAppPool')

      const netBefore = netCalls(sso)
      const toAnonymous = await sso.deploy('r1', 'example.edu', openSite, { shibboleth: 'false', auth: 'anonymous' })
      expect(toAnonymous.error).toBeUndefined()
      expect(toAnonymous.report.shibboleth).toBeUndefined()
      expect(netCalls(sso)).toEqual(netBefore)
      expect(fs.readFileSync(sso.spConfig).equals(original)).toBe(true)

      expect((await sso.deploy('r1', 'example.edu', site)).error).toBeUndefined()
      expect(fs.readFileSync(sso.spConfig).equals(protectedFile)).toBe(true)
    }
  )
})
