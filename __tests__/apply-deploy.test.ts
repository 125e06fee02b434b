import fs from 'node:fs'
import path from 'node:path'
import { DOMParser, type Element } from '@xmldom/xmldom'
import { afterEach, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { layoutFor } from '../src/layout.js'
import { failingRunner } from './support/failing-runner.js'
import { apply, configFor, createTarget, SECRET, stage, type Target } from './support/apply-fixture.js'
import { filesBelow } from './support/run-action.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

function doc(xml: string): Element {
  return new DOMParser().parseFromString(xml, 'text/xml').documentElement as Element
}
function all(root: Element, name: string): Element[] {
  return Array.from(root.getElementsByTagName(name))
}

describe('applyRelease against the appcmd and icacls doubles', () => {
  it('first deploy into a fresh applicationHost.config creates exactly the pool, app, vdirs, FastCGI app and variables', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    const desired = stage(target, config)
    const layout = layoutFor(config.deployRoot)
    const phases: string[] = []
    let registeredByRecycle = false
    const result = await apply(target, config, desired, {
      observer: {
        beforeStep: step => {
          if (phases.at(-1) !== step.phase) phases.push(step.phase)
          // By the recycle, the FastCGI registration and its variables are in place.
          if (step.phase === 'recycle') registeredByRecycle = target!.sandbox.readConfig().includes('environmentVariable')
        }
      }
    })
    // A first deploy creates the app already pointing at the release: no separate switch.
    expect(phases).toEqual(['backup', 'pool', 'grants', 'before-switch', 'recycle', 'prune-backups'])
    expect(registeredByRecycle).toBe(true)
    expect(result.changed).toBe(true)
    expect(result.backupName).toMatch(/^django-iis-deploy-r1-\d{8}T\d{9}Z$/)

    const root = doc(target.sandbox.readConfig())
    const pools = all(root, 'applicationPools')[0]
    const ours = all(pools, 'add').filter(a => a.getAttribute('name') === 'DefaultWebSite-app')
    expect(ours).toHaveLength(1)
    expect(ours[0].getAttribute('managedRuntimeVersion')).toBe('')
    expect(all(ours[0], 'processModel')[0].getAttribute('identityType')).toBe('ApplicationPoolIdentity')

    const site = all(root, 'site').find(s => s.getAttribute('name') === 'Default Web Site')!
    const app = all(site, 'application').filter(a => a.getAttribute('path') === '/app')
    expect(app).toHaveLength(1)
    expect(app[0].getAttribute('applicationPool')).toBe('DefaultWebSite-app')
    const vdirs = all(app[0], 'virtualDirectory').map(v => [v.getAttribute('path'), v.getAttribute('physicalPath')])
    // STATIC_URL 'static/' is release/static under the app's root vdir: its own web.config serves it, no vdir.
    expect(vdirs).toEqual([['/', layout.releaseDir('r1')]])

    const fastCgi = all(root, 'fastCgi')[0]
    const apps = all(fastCgi, 'application')
    expect(apps).toHaveLength(1)
    expect(apps[0].getAttribute('fullPath')).toBe(desired.fastCgi!.fullPath)
    expect(apps[0].getAttribute('arguments')).toBe(desired.fastCgi!.arguments)
    expect(desired.fastCgi!.fullPath).toBe(layout.venvPython('venv1'))
    const vars = all(apps[0], 'environmentVariable').map(v => [v.getAttribute('name'), v.getAttribute('value')])
    expect(vars).toEqual([
      ['DJANGO_SETTINGS_MODULE', 'hello.settings'],
      ['WSGI_LOG', layout.wsgiLog],
      ['GREETING', 'hello'],
      ['FEATURE_X', 'on'],
      ['API_TOKEN', SECRET]
    ])

    // Handlers unlocked at the app's location only; the server-wide section keeps its Deny default.
    const unlocked = all(root, 'location').filter(l => l.getAttribute('overrideMode') === 'Allow')
    expect(unlocked.map(l => l.getAttribute('path'))).toEqual(['Default Web Site/app'])
    expect(all(unlocked[0], 'handlers')).toHaveLength(1)
    expect(target.sandbox.readConfig()).toContain('<section name="handlers" overrideModeDefault="Deny" />')

    // Anonymous requests at the app read files as the pool, the one principal granted below; the site keeps IUSR.
    // (The server level keeps IIS's default, userName="IUSR", as on a fresh server.)
    const anonymous = all(root, 'anonymousAuthentication').filter(a => a.getAttribute('userName') !== 'IUSR')
    expect(anonymous).toHaveLength(1)
    expect(anonymous[0].getAttribute('userName')).toBe('')
    let owner = anonymous[0].parentNode
    while (owner && owner.nodeName !== 'location') owner = owner.parentNode
    expect((owner as Element | null)?.getAttribute('path')).toBe('Default Web Site/app')

    // Read & execute on Python, venv and the releases folder (each release inherits it); modify on logs; nobody else.
    const grants = target.sandbox.aclGrants()
    expect(grants.map(g => [g.path, g.principal, g.perm])).toEqual([
      [target.pythonHome, 'IIS AppPool\\DefaultWebSite-app', '(OI)(CI)RX'],
      [layout.venvDir('venv1'), 'IIS AppPool\\DefaultWebSite-app', '(OI)(CI)RX'],
      [layout.releasesDir, 'IIS AppPool\\DefaultWebSite-app', '(OI)(CI)RX'],
      [layout.logsDir, 'IIS AppPool\\DefaultWebSite-app', '(OI)(CI)M']
    ])
    expect(fs.existsSync(layout.wsgiLog)).toBe(true)
    expect(result.objects.filter(o => o.status === 'created').map(o => o.kind)).toContain('fastCgi')
    expect(target.sandbox.mutatingCalls().at(-1)!.argv).toEqual(['recycle', 'apppool', '/apppool.name:DefaultWebSite-app'])
  })

  it('a second deploy with nothing changed makes zero writes, at most 3 appcmd calls, and runs no icacls', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    const desired = stage(target, config)
    await apply(target, config, desired)
    const before = target.sandbox.readConfig()
    target.sandbox.resetCounters()
    target.runner.reset()
    const again = await apply(target, configFor(target, 'r1'), stage(target, config))
    expect(again.changed).toBe(false)
    expect(again.operations).toEqual([])
    expect(again.backupName).toBeUndefined()
    expect(target.sandbox.mutatingCalls()).toEqual([])
    expect(target.sandbox.calls().length).toBeLessThanOrEqual(3)
    expect(target.sandbox.aclGrants()).toEqual([])
    expect(target.runner.calls.filter(c => c.file === target!.sandbox.icaclsPath)).toEqual([])
    // The state read is the caller's (main reads it once, before staging): apply itself makes no call.
    expect(again.calls).toEqual({ appcmdReads: 0, appcmdWrites: 0, icacls: 0 })
    expect(target.sandbox.readConfig()).toBe(before)
    expect((await again.rollback()).ok).toBe(true)
  })

  it('one changed env value runs exactly the backup, that one set and the recycle', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    await apply(target, config, stage(target, config))
    target.sandbox.resetCounters()
    const changed = configFor(target, 'r1', { env: 'GREETING=bonjour\nFEATURE_X=on' })
    const result = await apply(target, changed, stage(target, changed))
    expect(target.sandbox.mutatingCalls().map(c => c.argv)).toEqual([
      ['add', 'backup', result.backupName],
      [
        'set',
        'config',
        '-section:system.webServer/fastCgi',
        expect.stringMatching(/^\/\[fullPath='.*\.environmentVariables\.\[name='GREETING'\]\.value:bonjour$/),
        '/commit:apphost'
      ],
      ['recycle', 'apppool', '/apppool.name:DefaultWebSite-app']
    ])
    expect(target.sandbox.readConfig()).toContain('name="GREETING" value="bonjour"')
    expect(target.sandbox.aclGrants()).toEqual([])
    expect(result.objects.filter(o => o.status !== 'unchanged')).toEqual([
      { kind: 'envVar', name: 'GREETING', status: 'changed' },
      { kind: 'fastCgi', name: expect.any(String), status: 'changed' }
    ])
  })

  it('a new release and venv switches the app, replaces our FastCGI app and rolls back on request', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1, 'venv1'))
    const afterFirst = target.sandbox.readConfig()
    const c2 = configFor(target, 'r2')
    const d2 = stage(target, c2, 'venv2')
    const layout = layoutFor(c2.deployRoot)
    const result = await apply(target, c2, d2)
    expect(result.previousPhysicalPath).toBe(layout.releaseDir('r1'))
    const xml = target.sandbox.readConfig()
    expect(xml).toContain(`physicalPath="${layout.releaseDir('r2')}"`)
    expect(xml).not.toContain(layout.venvDir('venv1'))
    expect(xml.match(/<application fullPath=/g)).toHaveLength(1)
    const rb = await result.rollback()
    expect(rb).toMatchObject({ ok: true, failed: [] })
    expect(target.sandbox.readConfig()).toBe(afterFirst)
  })

  it('a new release on the same venv runs no icacls: it inherits the grant on the releases folder', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1, 'venv1'))
    target.sandbox.resetCounters()
    const c2 = configFor(target, 'r2')
    const result = await apply(target, c2, stage(target, c2, 'venv1'))
    expect(target.sandbox.readConfig()).toContain(`physicalPath="${layoutFor(c2.deployRoot).releaseDir('r2')}"`)
    expect(target.sandbox.aclGrants()).toEqual([])
    expect(result.calls.icacls).toBe(0)
  })

  it('keeps secrets out of every log line and every file under deploy-root', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    await apply(target, config, stage(target, config))
    const c2 = configFor(target, 'r2', { 'secret-env': 'API_TOKEN=another-Secret-42' })
    await apply(target, c2, stage(target, c2, 'venv2'))
    // The secrets did reach IIS...
    expect(target.sandbox.readConfig()).toContain('another-Secret-42')
    // ...but no log line and no file of ours.
    const lines = target.log.lines.join('\n')
    expect(lines).toContain('***')
    expect(lines).not.toContain(SECRET)
    expect(lines).not.toContain('another-Secret-42')
    const files = filesBelow(target.deployRoot)
    for (const file of files) {
      const text = fs.readFileSync(path.join(target.deployRoot, file), 'utf8')
      expect(text, file).not.toContain(SECRET)
      expect(text, file).not.toContain('another-Secret-42')
    }
    expect(files).toEqual(expect.arrayContaining(['acl-state.json', 'iis-state.json', path.join('logs', 'wfastcgi.log')]))
  })
})

describe('a changed STATIC_URL', () => {
  const vdirsOf = (xml: string): Record<string, string> =>
    Object.fromEntries(all(doc(xml), 'virtualDirectory').map(v => [v.getAttribute('path') ?? '', v.getAttribute('physicalPath') ?? '']))

  it('adds the vdir it names, removes the old one of ours after the switch, keeps foreign ones, and rolls back', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1, 'venv1', { staticUrl: '/app/files/', forceScriptName: null }))
    const layout = layoutFor(c1.deployRoot)
    // A vdir an administrator added to the app: it serves nothing of ours, so no deploy removes it.
    const appcmdArgs = ['add', 'vdir', '/app.name:Default Web Site/app', '/path:/media', '/physicalPath:D:\\uploads']
    await target.runner.run(target.sandbox.appcmdPath, appcmdArgs)
    const afterFirst = target.sandbox.readConfig()
    expect(vdirsOf(afterFirst)['/files']).toBe(layout.staticDir('r1'))

    const c2 = configFor(target, 'r2')
    target.sandbox.resetCounters()
    const result = await apply(target, c2, stage(target, c2, 'venv1', { staticUrl: '/app/assets/', forceScriptName: null }))
    expect(vdirsOf(target.sandbox.readConfig())).toEqual({
      '/': layout.releaseDir('r2'),
      '/assets': layout.staticDir('r2'),
      '/media': 'D:\\uploads'
    })
    const writes = target.sandbox.mutatingCalls().map(c => c.argv.slice(0, 3).join(' '))
    expect(writes.indexOf('delete vdir Default Web Site/app/files')).toBeGreaterThan(writes.indexOf('set vdir Default Web Site/app/'))
    expect(result.objects).toContainEqual({ kind: 'vdir', name: 'Default Web Site/app/files', status: 'removed' })

    // Rollback (verify failed): the inverse of the delete brings back the vdir the previous release's pages link.
    // It is added again, so it comes after /media in the file: IIS matches vdirs by path, not by their order.
    expect(await result.rollback()).toMatchObject({ ok: true, failed: [] })
    const restored = target.sandbox.readConfig()
    expect(vdirsOf(restored)).toEqual(vdirsOf(afterFirst))
    const withoutVdirs = (xml: string): string => xml.replace(/^\s*<virtualDirectory [^>]*\/>\n/gm, '')
    expect(withoutVdirs(restored)).toBe(withoutVdirs(afterFirst))
  })

  it("drops the /static vdir an earlier version made once release/static is served by the app's root vdir, and rolls back", async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1))
    const layout = layoutFor(c1.deployRoot)
    const appcmdArgs = ['add', 'vdir', '/app.name:Default Web Site/app', '/path:/static', `/physicalPath:${layout.staticDir('r1')}`]
    await target.runner.run(target.sandbox.appcmdPath, appcmdArgs)
    const afterFirst = target.sandbox.readConfig()
    const c2 = configFor(target, 'r2')
    target.sandbox.resetCounters()
    const result = await apply(target, c2, stage(target, c2))
    expect(vdirsOf(target.sandbox.readConfig())).toEqual({ '/': layout.releaseDir('r2') })
    const writes = target.sandbox.mutatingCalls().map(c => c.argv.slice(0, 3).join(' '))
    // After the switch: until then the live release's pages link the files the vdir serves.
    expect(writes.indexOf('delete vdir Default Web Site/app/static')).toBeGreaterThan(writes.indexOf('set vdir Default Web Site/app/'))
    expect(await result.rollback()).toMatchObject({ ok: true, failed: [] })
    expect(vdirsOf(target.sandbox.readConfig())).toEqual(vdirsOf(afterFirst))
  })

  it('puts the removed static vdir back by hand when the restore itself fails', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1, 'venv1', { staticUrl: '/app/files/', forceScriptName: null }))
    const layout = layoutFor(c1.deployRoot)
    const c2 = configFor(target, 'r2')
    const d2 = stage(target, c2, 'venv1', { staticUrl: '/app/assets/', forceScriptName: null })
    target.sandbox.resetCounters()
    // 1 backup, 2 add /assets, 3 switch, 4 delete /files, 5 recycle (fails), 6 the first inverse, adding /files
    // back (fails), 7 the restore it falls back to (fails too): only then is /files put back by hand.
    target.sandbox.failAt([5, 6, 7])
    const err = await apply(target, c2, d2).catch((e: unknown) => e)
    target.sandbox.failAt(undefined)
    expect(err).toBeInstanceOf(PhaseError)
    expect((err as PhaseError).message).toContain(`static folder Default Web Site/app/files serves ${layout.staticDir('r1')} again`)
    expect((err as PhaseError).message).toContain('NOT restored: backup')
    const vdirs = vdirsOf(target.sandbox.readConfig())
    expect(vdirs['/']).toBe(layout.releaseDir('r1'))
    expect(vdirs['/files']).toBe(layout.staticDir('r1'))
  })
})

describe('a failing switch', () => {
  it('rolls IIS back to the previous release and says what was restored', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1))
    const before = target.sandbox.readConfig()
    target.sandbox.resetCounters()
    const c2 = configFor(target, 'r2')
    const isSwitch = (argv: readonly string[]): boolean => argv[0] === 'set' && argv[1] === 'vdir' && argv[2] === 'Default Web Site/app/'
    const runner = failingRunner(target.runner, target.sandbox, isSwitch)
    const err = await apply(target, c2, stage(target, c2), { runner }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PhaseError)
    expect((err as PhaseError).message).toMatch(
      /^apply failed at step "switch Default Web Site\/app from \S+ to the new release": appcmd set vdir .* failed \(exit 32, locked\): .*Rolled back — restored: no IIS change of this run needed undoing; app pool DefaultWebSite-app recycled$/
    )
    // No `restore backup`, which stops the whole server: nothing before the switch needed undoing.
    expect(target.sandbox.mutatingCalls().map(c => c.argv.slice(0, 2).join(' '))).toEqual(['add backup', 'set vdir', 'recycle apppool'])
    expect(target.sandbox.readConfig()).toBe(before)
  })
})
