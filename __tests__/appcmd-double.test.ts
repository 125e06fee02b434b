import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { DOMParser, type Element, type Node } from '@xmldom/xmldom'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createIisSandbox, type IisSandbox } from './support/iis-sandbox.js'
import { runDouble, runDoubleProcess } from './support/run-double.js'

const SITE = 'Default Web Site'
const PY = 'C:\\app\\venv\\Scripts\\python.exe'
const WFASTCGI = 'C:\\app\\venv\\Lib\\site-packages\\wfastcgi.py'
const FCGI = `fullPath='${PY}',arguments='${WFASTCGI}'`
const APPLIED_FASTCGI =
  'Applied configuration changes to section "system.webServer/fastCgi" for "MACHINE/WEBROOT/APPHOST" at configuration commit path "MACHINE/WEBROOT/APPHOST"\n'

let box: IisSandbox
const appcmd = (...argv: string[]) => runDouble(box.appcmdPath, argv, box.env)
const xpathText = (xml: string) => new DOMParser().parseFromString(xml, 'text/xml')
const children = (parent: Node | null | undefined): Element[] =>
  Array.from(parent?.childNodes ?? []).filter((n): n is Element => n.nodeType === 1)
const el = (parent: Node | null | undefined, name: string) => children(parent).find(n => n.nodeName === name)

beforeEach(() => {
  box = createIisSandbox()
})
afterEach(() => box.cleanup())

describe('fresh server seed and text listings', () => {
  it('lists the default site, app, vdir and pool exactly as appcmd prints them', async () => {
    expect(await appcmd('list', 'site')).toEqual({
      exitCode: 0,
      stdout: `SITE "${SITE}" (id:1,bindings:http/*:80:,state:Started)\n`,
      stderr: ''
    })
    expect((await appcmd('list', 'apps')).stdout).toBe(`APP "${SITE}/" (applicationPool:DefaultAppPool)\n`)
    expect((await appcmd('list', 'vdir')).stdout).toBe(`VDIR "${SITE}/" (physicalPath:%SystemDrive%\\inetpub\\wwwroot)\n`)
    expect((await appcmd('list', 'apppool')).stdout).toBe('APPPOOL "DefaultAppPool" (MgdVersion:v4.0,MgdMode:Integrated,state:Started)\n')
  })

  it('declares handlers locked and fastCgi empty, and writes the file back in the same layout', async () => {
    const seed = box.readConfig()
    expect(seed).toContain('<section name="handlers" overrideModeDefault="Deny" />')
    expect(seed).toContain('<fastCgi />')
    await appcmd('add', 'apppool', '/name:Temp')
    expect(box.readConfig()).not.toBe(seed)
    await appcmd('delete', 'apppool', 'Temp')
    expect(box.readConfig()).toBe(seed)
    const res = await appcmd('list', 'config', `${SITE}/app`, '-section:system.webServer/handlers', '/xml')
    expect(res.stdout).toContain(`path="MACHINE/WEBROOT/APPHOST/${SITE}/app" overrideMode="Inherit" locked="true"`)
  })

  it('accepts verbs, objects and names in any case', async () => {
    expect((await appcmd('LIST', 'SITE', 'default web site')).stdout).toContain(`SITE "${SITE}"`)
    expect((await appcmd('Add', 'AppPool', '/name:Pool1')).stdout).toBe('APPPOOL object "Pool1" added\n')
    expect((await appcmd('list', 'apppool', 'POOL1')).stdout).toContain('APPPOOL "Pool1"')
    expect((await appcmd('recycle', 'apppool', '/apppool.name:pool1')).stdout).toBe('"Pool1" successfully recycled\n')
  })
})

describe('objects: add, set, delete', () => {
  it('reports a duplicate pool with exit 183 and the exact message on stdout, stderr empty', async () => {
    await appcmd('add', 'apppool', '/name:Pool1')
    const dup = await appcmd('add', 'apppool', '/name:pool1')
    expect(dup).toEqual({ exitCode: 183, stdout: 'ERROR ( message:Failed to add duplicate collection element "pool1". )\n', stderr: '' })
  })

  it('adds an app with its root vdir, and refuses a missing site with 1168 (144 on Linux)', async () => {
    const added = await appcmd('add', 'app', `/site.name:${SITE}`, '/path:/app', '/physicalPath:C:\\rel\\1', '/applicationPool:Pool1')
    expect(added.stdout).toBe(`APP object "${SITE}/app" added\nVDIR object "${SITE}/app/" added\n`)
    const missing = await appcmd('add', 'app', '/site.name:Nope', '/path:/app')
    expect(missing).toEqual({
      exitCode: 1168 % 256,
      stdout: 'ERROR ( message:Cannot find SITE object with identifier "Nope". )\n',
      stderr: ''
    })
  })

  it('switches what an app serves with set vdir, moves pools with set app, and deletes', async () => {
    await appcmd('add', 'app', `/site.name:${SITE}`, '/path:/app', '/physicalPath:C:\\rel\\1')
    expect((await appcmd('add', 'vdir', `/app.name:${SITE}/app`, '/path:/static', '/physicalPath:C:\\rel\\1\\static')).stdout).toBe(
      `VDIR object "${SITE}/app/static" added\n`
    )
    expect((await appcmd('set', 'vdir', `${SITE}/app/`, '/physicalPath:C:\\rel\\2')).stdout).toBe(`VDIR object "${SITE}/app/" changed\n`)
    expect((await appcmd('set', 'app', `${SITE}/app`, '/applicationPool:Pool2')).stdout).toBe(`APP object "${SITE}/app" changed\n`)
    expect((await appcmd('list', 'vdirs', `/app.name:${SITE}/app`)).stdout).toBe(
      `VDIR "${SITE}/app/" (physicalPath:C:\\rel\\2)\nVDIR "${SITE}/app/static" (physicalPath:C:\\rel\\1\\static)\n`
    )
    expect((await appcmd('list', 'apps', `/site.name:${SITE}`)).stdout).toContain(`APP "${SITE}/app" (applicationPool:Pool2)`)
    expect((await appcmd('delete', 'vdir', `${SITE}/app/static`)).stdout).toBe(`VDIR object "${SITE}/app/static" deleted\n`)
    expect((await appcmd('delete', 'app', `${SITE}/app`)).stdout).toBe(`APP object "${SITE}/app" deleted\n`)
    expect((await appcmd('delete', 'app', `${SITE}/app`)).exitCode).toBe(1168 % 256)
  })

  it('sets pool identity and "no managed code", visible in text and /config /xml', async () => {
    await appcmd('add', 'apppool', '/name:Pool1', '/managedRuntimeVersion:')
    const set = await appcmd('set', 'apppool', '/apppool.name:Pool1', '/processModel.identityType:NetworkService')
    expect(set.stdout).toBe('APPPOOL object "Pool1" changed\n')
    expect((await appcmd('list', 'apppool', 'Pool1')).stdout).toBe('APPPOOL "Pool1" (MgdVersion:,MgdMode:Integrated,state:Started)\n')
    const bad = await appcmd('set', 'apppool', 'Pool1', '/processModel.identityType:Nobody')
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stdout).toMatch(/^ERROR \( message:/)
  })

  it('starts and stops sites, refusing to stop a stopped one', async () => {
    expect((await appcmd('stop', 'site', `/site.name:${SITE}`)).stdout).toBe(`"${SITE}" successfully stopped.\n`)
    expect((await appcmd('list', 'site')).stdout).toContain('state:Stopped')
    const again = await appcmd('stop', 'site', SITE)
    expect(again.exitCode).toBe(1062 % 256)
    expect(again.stdout).toMatch(/^ERROR \(/)
    expect((await appcmd('start', 'site', SITE)).stdout).toBe(`"${SITE}" successfully started.\n`)
  })
})

describe('listing: identifiers, filters, /xml and /config /xml', () => {
  it('answers an unknown identifier with exit 1 and no output by default, and a filter without match with nothing and exit 1', async () => {
    expect(await appcmd('list', 'app', 'Nope/x')).toEqual({ exitCode: 1, stdout: '', stderr: '' })
    expect(await appcmd('list', 'apppool', 'Nope', '/config', '/xml')).toEqual({ exitCode: 1, stdout: '', stderr: '' })
    expect(await appcmd('list', 'apps', '/site.name:Nope')).toEqual({ exitCode: 1, stdout: '', stderr: '' })
    expect((await appcmd('list', 'apps', '/site.name:Nope', '/xml')).stdout).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<appcmd>\n</appcmd>\n'
    )
  })

  it('answers an unknown identifier in the form APPCMD_DOUBLE_LIST_MISS chooses', async () => {
    const miss = (form: string, ...argv: string[]) => runDouble(box.appcmdPath, argv, { ...box.env, APPCMD_DOUBLE_LIST_MISS: form })
    const decl = '<?xml version="1.0" encoding="UTF-8"?>\n'
    expect(await miss('exit0-xml', 'list', 'site', 'Nope', '/config', '/xml')).toEqual({
      exitCode: 0,
      stdout: `${decl}<appcmd>\n</appcmd>\n`,
      stderr: ''
    })
    expect(await miss('exit0-xml', 'list', 'site', 'Nope')).toEqual({ exitCode: 0, stdout: '', stderr: '' })
    expect(await miss('exit0-xml-selfclosing', 'list', 'apppool', 'Nope', '/xml')).toEqual({
      exitCode: 0,
      stdout: `${decl}<appcmd />\n`,
      stderr: ''
    })
    expect(await miss('not-found', 'list', 'app', 'Nope/x', '/xml')).toEqual({
      exitCode: 1168 % 256,
      stdout: 'ERROR ( message:Cannot find APP object with identifier "Nope/x". )\n',
      stderr: ''
    })
    expect((await miss('bogus', 'list', 'app', 'Nope/x')).exitCode).toBe(87)
    // An identifier that exists answers the same whatever the form.
    expect((await miss('not-found', 'list', 'site', SITE)).stdout).toContain(`SITE "${SITE}"`)
  })

  it('prints the /xml object attributes iis-facts documents', async () => {
    const site = await appcmd('list', 'site', '/xml')
    expect(site.stdout).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<appcmd>\n    <SITE SITE.NAME="${SITE}" SITE.ID="1" bindings="http/*:80:" state="Started" />\n</appcmd>\n`
    )
    const pool = xpathText((await appcmd('list', 'apppool', '/xml')).stdout)
    const p = el(el(pool, 'appcmd'), 'APPPOOL')
    expect([
      p?.getAttribute('APPPOOL.NAME'),
      p?.getAttribute('PipelineMode'),
      p?.getAttribute('RuntimeVersion'),
      p?.getAttribute('state')
    ]).toEqual(['DefaultAppPool', 'Integrated', 'v4.0', 'Started'])
  })

  it('nests the raw config element under /config /xml', async () => {
    await appcmd('add', 'apppool', '/name:Pool1', '/processModel.identityType:LocalService')
    await appcmd('add', 'app', `/site.name:${SITE}`, '/path:/app', '/physicalPath:C:\\rel\\1', '/applicationPool:Pool1')

    const site = el(el(el(xpathText((await appcmd('list', 'site', SITE, '/config', '/xml')).stdout), 'appcmd'), 'SITE'), 'site')
    const apps = children(site).filter(n => n.nodeName === 'application')
    expect(
      apps.map(a => [a.getAttribute('path'), a.getAttribute('applicationPool'), el(a, 'virtualDirectory')?.getAttribute('physicalPath')])
    ).toEqual([
      ['/', 'DefaultAppPool', '%SystemDrive%\\inetpub\\wwwroot'],
      ['/app', 'Pool1', 'C:\\rel\\1']
    ])

    const pool = el(el(el(xpathText((await appcmd('list', 'apppool', 'Pool1', '/config', '/xml')).stdout), 'appcmd'), 'APPPOOL'), 'add')
    expect(el(pool, 'processModel')?.getAttribute('identityType')).toBe('LocalService')

    const app = el(
      el(el(xpathText((await appcmd('list', 'app', `${SITE}/app`, '/config', '/xml')).stdout), 'appcmd'), 'APP'),
      'application'
    )
    expect(app?.getAttribute('applicationPool')).toBe('Pool1')
  })
})

describe('set config: system.webServer/fastCgi', () => {
  const addApp = () =>
    appcmd('set', 'config', '-section:system.webServer/fastCgi', `/+[${FCGI},signalBeforeTerminateSeconds='30']`, '/commit:apphost')

  it('adds an application and detects duplicates on the combined key (fullPath, arguments)', async () => {
    expect(await addApp()).toEqual({ exitCode: 0, stdout: APPLIED_FASTCGI, stderr: '' })
    const dup = await appcmd('set', 'config', '-section:system.webServer/fastCgi', `/+[${FCGI}]`, '/commit:apphost')
    expect(dup).toEqual({
      exitCode: 183,
      stdout:
        "ERROR ( message:New application object missing required attributes. Cannot add duplicate collection entry of type 'application' " +
        `with combined key attributes 'fullPath, arguments' respectively set to '${PY}, ${WFASTCGI}'\n\n. )\n`,
      stderr: ''
    })
    // Same interpreter, other script: a different combined key, so not a duplicate.
    const other = await appcmd(
      'set',
      'config',
      '-section:system.webServer/fastCgi',
      `/+[fullPath='${PY}',arguments='C:\\other\\wfastcgi.py']`
    )
    expect(other.exitCode).toBe(0)
  })

  it('stores environment variables as <environmentVariable> children and detects a duplicate name', async () => {
    await addApp()
    const env = (name: string, value: string) => `/+[${FCGI}].environmentVariables.[name='${name}',value='${value}']`
    const added = await appcmd(
      'set',
      'config',
      '-section:system.webServer/fastCgi',
      env('DJANGO_SETTINGS_MODULE', 'site.settings'),
      '/commit:apphost'
    )
    expect(added.stdout).toBe(APPLIED_FASTCGI)
    const listed = xpathText((await appcmd('list', 'config', '-section:system.webServer/fastCgi', '/xml')).stdout)
    const config = el(el(listed, 'appcmd'), 'CONFIG')
    expect([
      config?.getAttribute('CONFIG.SECTION'),
      config?.getAttribute('path'),
      config?.getAttribute('overrideMode'),
      config?.getAttribute('locked')
    ]).toEqual(['system.webServer/fastCgi', 'MACHINE/WEBROOT/APPHOST', 'Inherit', 'false'])
    const application = el(el(config, 'system.webServer-fastCgi'), 'application')
    expect(application?.getAttribute('signalBeforeTerminateSeconds')).toBe('30')
    const variable = el(el(application, 'environmentVariables'), 'environmentVariable')
    expect([variable?.getAttribute('name'), variable?.getAttribute('value')]).toEqual(['DJANGO_SETTINGS_MODULE', 'site.settings'])

    const dup = await appcmd('set', 'config', '-section:system.webServer/fastCgi', env('django_settings_module', 'x'))
    expect(dup.exitCode).toBe(183)
    expect(dup.stdout).toBe(
      "ERROR ( message:New environmentVariable object missing required attributes. Cannot add duplicate collection entry of type 'environmentVariable' " +
        "with unique key attribute 'name' set to 'django_settings_module'\n\n. )\n"
    )
  })

  it('sets an attribute of a nested collection element with /[key].collection.[key].attr:value', async () => {
    await addApp()
    await appcmd(
      'set',
      'config',
      '-section:system.webServer/fastCgi',
      `/+[${FCGI}].environmentVariables.[name='WSGI_HANDLER',value='a.b()']`
    )
    const set = await appcmd(
      'set',
      'config',
      '-section:fastCgi',
      `/[${FCGI}].environmentVariables.[name='WSGI_HANDLER'].value:django.core.wsgi.get_wsgi_application()`
    )
    expect(set.stdout).toBe(APPLIED_FASTCGI)
    expect(box.readConfig()).toContain('<environmentVariable name="WSGI_HANDLER" value="django.core.wsgi.get_wsgi_application()" />')
    expect((await appcmd('set', 'config', '-section:fastCgi', `/[${FCGI}].maxInstances:4`)).exitCode).toBe(0)
    expect(box.readConfig()).toContain('maxInstances="4"')
  })

  it('removes elements, and answers a missing one with 4312 (216 on Linux)', async () => {
    await addApp()
    await appcmd('set', 'config', '-section:system.webServer/fastCgi', `/+[${FCGI}].environmentVariables.[name='K',value='V']`)
    expect(
      (await appcmd('set', 'config', '-section:system.webServer/fastCgi', `/-[${FCGI}].environmentVariables.[name='K']`)).exitCode
    ).toBe(0)
    expect(box.readConfig()).not.toContain('name="K"')
    const missing = await appcmd('set', 'config', '-section:system.webServer/fastCgi', `/-[${FCGI}].environmentVariables.[name='K']`)
    expect(missing).toEqual({ exitCode: 4312 % 256, stdout: 'ERROR ( message:Cannot find requested collection element. )\n', stderr: '' })
    expect((await appcmd('set', 'config', '-section:system.webServer/fastCgi', `/-[${FCGI}]`)).exitCode).toBe(0)
    expect(box.readConfig()).not.toContain('wfastcgi.py')
  })

  it('rejects unknown attributes, malformed indexers, quotes inside values and empty variable values', async () => {
    await addApp()
    const before = box.readConfig()
    const unknown = await appcmd('set', 'config', '-section:fastCgi', `/+[fullPath='x',argumentz='y']`)
    expect(unknown.stdout).toBe('ERROR ( message:Unknown attribute "argumentz".  Replace with -? for help. )\n')
    const malformed = "ERROR ( message:Malformed collection indexer; format is [@position,name='value',...]. )\n"
    expect((await appcmd('set', 'config', '-section:fastCgi', `/+[fullPath='x'`)).stdout).toBe(malformed)
    expect((await appcmd('set', 'config', '-section:fastCgi', `/+[fullPath='it's',arguments='y']`)).stdout).toBe(malformed)
    // A shell would strip these quotes; without a shell they reach appcmd and make the indexer malformed.
    expect((await appcmd('set', 'config', '-section:fastCgi', `/+"[fullPath='x',arguments='y']"`)).stdout).toBe(malformed)
    const empty = await appcmd('set', 'config', '-section:fastCgi', `/+[${FCGI}].environmentVariables.[name='E',value='']`)
    expect(empty.exitCode).toBe(13)
    expect(box.readConfig()).toBe(before)
  })

  it('applies several /+ /- in one call all or nothing', async () => {
    await addApp()
    const before = box.readConfig()
    const res = await appcmd(
      'set',
      'config',
      '-section:system.webServer/fastCgi',
      `/+[${FCGI}].environmentVariables.[name='A',value='1']`,
      `/-[${FCGI}].environmentVariables.[name='MISSING']`,
      '/commit:apphost'
    )
    expect(res.exitCode).toBe(4312 % 256)
    expect(box.readConfig()).toBe(before)
    const both = await appcmd(
      'set',
      'config',
      '-section:system.webServer/fastCgi',
      `/+[${FCGI}].environmentVariables.[name='A',value='1']`,
      `/+[${FCGI}].environmentVariables.[name='B',value='2']`
    )
    expect(both.exitCode).toBe(0)
    expect(box.readConfig()).toMatch(/name="A" value="1" \/>\s*<environmentVariable name="B" value="2" \/>/)
  })
})

describe('location-scoped config and unlock', () => {
  it('stores httpPlatform environment variables under <location path="S/app"> and removes them', async () => {
    const res = await appcmd(
      'set',
      'config',
      `${SITE}/app`,
      '-section:system.webServer/httpPlatform',
      "/+environmentVariables.[name='K',value='V']",
      '/commit:apphost'
    )
    expect(res.stdout).toBe(
      `Applied configuration changes to section "system.webServer/httpPlatform" for "MACHINE/WEBROOT/APPHOST/${SITE}/app" at configuration commit path "MACHINE/WEBROOT/APPHOST"\n`
    )
    const doc = xpathText(box.readConfig())
    const location = children(doc.documentElement).find(n => n.nodeName === 'location')
    expect(location?.getAttribute('path')).toBe(`${SITE}/app`)
    const variable = el(el(el(el(location, 'system.webServer'), 'httpPlatform'), 'environmentVariables'), 'environmentVariable')
    expect([variable?.getAttribute('name'), variable?.getAttribute('value')]).toEqual(['K', 'V'])
    const listed = (await appcmd('list', 'config', `${SITE}/app`, '-section:system.webServer/httpPlatform', '/xml')).stdout
    expect(listed).toContain('<environmentVariable name="K" value="V" />')
    expect((await appcmd('list', 'config', '-section:system.webServer/httpPlatform', '/xml')).stdout).not.toContain('name="K"')
    const removed = await appcmd(
      'set',
      'config',
      `${SITE}/app`,
      '-section:system.webServer/httpPlatform',
      "/-environmentVariables.[name='K']",
      '/commit:apphost'
    )
    expect(removed.exitCode).toBe(0)
    expect(box.readConfig()).not.toContain('name="K"')
  })

  it('sets the anonymous user of one app to the pool identity (userName="" and --password), as Microsoft documents', async () => {
    const section = '-section:system.webServer/security/authentication/anonymousAuthentication'
    const res = await appcmd('set', 'config', `${SITE}/app`, section, '/userName:', '--password', '/commit:apphost')
    expect(res.exitCode).toBe(0)
    const doc = xpathText(box.readConfig())
    const location = children(doc.documentElement).find(n => n.nodeName === 'location' && n.getAttribute('path') === `${SITE}/app`)
    const anonymous = el(el(el(el(location, 'system.webServer'), 'security'), 'authentication'), 'anonymousAuthentication')
    expect(anonymous?.getAttribute('userName')).toBe('')
    expect(anonymous?.hasAttribute('password')).toBe(false)
    // A plain attribute takes no /+: that is for collection elements.
    const wrong = await appcmd('set', 'config', `${SITE}/app`, section, '/+userName:x', '/commit:apphost')
    expect(wrong.exitCode).not.toBe(0)
    expect(wrong.stdout).toMatch(/^ERROR \( message:Unknown attribute "userName"/)
  })

  it('unlocks handlers for one app by writing <location path overrideMode="Allow">, harmlessly when repeated', async () => {
    const res = await appcmd('unlock', 'config', `${SITE}/app`, '-section:system.webServer/handlers')
    expect(res).toEqual({
      exitCode: 0,
      stdout: `Unlocked section "system.webServer/handlers" at configuration path "MACHINE/WEBROOT/APPHOST/${SITE}/app".\n`,
      stderr: ''
    })
    const after = box.readConfig()
    expect(after).toContain(
      `    <location path="${SITE}/app" overrideMode="Allow">\n        <system.webServer>\n            <handlers />\n        </system.webServer>\n    </location>\n`
    )
    expect((await appcmd('unlock', 'config', `${SITE}/app`, '-section:system.webServer/handlers')).exitCode).toBe(0)
    expect(box.readConfig()).toBe(after)
    const listed = (await appcmd('list', 'config', `${SITE}/app`, '-section:system.webServer/handlers', '/xml')).stdout
    expect(listed).toContain('overrideMode="Allow" locked="false"')
    expect((await appcmd('list', 'config', `${SITE}/other`, '-section:system.webServer/handlers', '/xml')).stdout).toContain(
      'locked="true"'
    )
  })

  it('unlocks handlers globally by moving the section into <location path="" overrideMode="Allow">', async () => {
    const res = await appcmd('unlock', 'config', '-section:system.webServer/handlers')
    expect(res.stdout).toBe('Unlocked section "system.webServer/handlers" at configuration path "MACHINE/WEBROOT/APPHOST".\n')
    const doc = xpathText(box.readConfig())
    const location = children(doc.documentElement).find(n => n.nodeName === 'location')
    expect(location?.getAttribute('path')).toBe('')
    expect(location?.getAttribute('overrideMode')).toBe('Allow')
    expect(el(el(el(location, 'system.webServer'), 'handlers'), 'add')?.getAttribute('name')).toBe('StaticFile')
    expect(el(el(doc.documentElement, 'system.webServer'), 'handlers')).toBeUndefined()
    expect((await appcmd('list', 'config', `${SITE}/any`, '-section:handlers', '/xml')).stdout).toContain('locked="false"')
  })
})

describe('backups', () => {
  it('round-trips a backup byte for byte and lists it', async () => {
    const original = box.readConfig()
    expect(await appcmd('add', 'backup', 'before-deploy')).toEqual({
      exitCode: 0,
      stdout: 'BACKUP object "before-deploy" added\n',
      stderr: ''
    })
    expect(readFileSync(join(box.backupsDir, 'before-deploy', 'applicationHost.config'), 'utf8')).toBe(original)
    await appcmd('add', 'apppool', '/name:Pool1')
    await appcmd('set', 'config', '-section:fastCgi', `/+[${FCGI}]`)
    expect(box.readConfig()).not.toBe(original)
    expect((await appcmd('list', 'backups')).stdout).toBe('BACKUP "before-deploy"\n')
    expect((await appcmd('restore', 'backup', 'BEFORE-DEPLOY')).stdout).toBe('Restored configuration from backup "before-deploy"\n')
    expect(box.readConfig()).toBe(original)
    expect((await appcmd('add', 'backup', 'before-deploy')).exitCode).toBe(183)
    expect((await appcmd('restore', 'backup', 'nope')).exitCode).toBe(1168 % 256)
    expect((await appcmd('delete', 'backup', 'before-deploy')).stdout).toBe('BACKUP object "before-deploy" deleted\n')
    expect(readdirSync(box.backupsDir)).toEqual([])
  })

  it('names a backup by timestamp when no name is given', async () => {
    const res = await appcmd('add', 'backup')
    expect(res.stdout).toMatch(/^BACKUP object "\d{8}T\d{6}" added\n$/)
  })
})

describe('fail-at-k and the call log', () => {
  it('fails only the k-th mutating call with exit 32, leaving the file byte-identical', async () => {
    box.failAt(2)
    await appcmd('list', 'site') // reads are not counted
    expect((await appcmd('add', 'apppool', '/name:First')).exitCode).toBe(0)
    await appcmd('list', 'apppool')
    const before = box.readConfig()
    const failed = await appcmd('add', 'apppool', '/name:Second')
    expect(failed).toEqual({
      exitCode: 32,
      stdout:
        'ERROR ( hresult:80070020, message:Failed to commit configuration changes.\nThe process cannot access the file because it is being used by another process.\n )\n',
      stderr: ''
    })
    expect(box.readConfig()).toBe(before)
    expect((await appcmd('add', 'apppool', '/name:Second')).exitCode).toBe(0)
    expect(box.calls().map(c => [c.argv[0], c.mutating, c.exitCode])).toEqual([
      ['list', false, 0],
      ['add', true, 0],
      ['list', false, 0],
      ['add', true, 32],
      ['add', true, 0]
    ])
  })

  it('honours APPCMD_DOUBLE_FAIL_AT from the environment and counts from a reset', async () => {
    await appcmd('add', 'apppool', '/name:A')
    box.resetCounters()
    const res = await runDouble(box.appcmdPath, ['add', 'apppool', '/name:B'], { ...box.env, APPCMD_DOUBLE_FAIL_AT: '1' })
    expect(res.exitCode).toBe(32)
    expect(box.mutatingCalls()).toHaveLength(1)
  })

  it('serializes concurrent writers, so none of them loses an update', async () => {
    // Separate processes (the shim): in process, calls cannot overlap, so only processes test the lock.
    const names = Array.from({ length: 8 }, (_, i) => `Pool${i}`)
    const results = await Promise.all(names.map(n => runDoubleProcess(box.appcmdPath, ['add', 'apppool', `/name:${n}`], box.env)))
    expect(results.every(r => r.exitCode === 0)).toBe(true)
    const listed = (await appcmd('list', 'apppool')).stdout
    for (const n of names) expect(listed).toContain(`APPPOOL "${n}"`)
  })
})

describe('how the double is reached', () => {
  it('is found on PATH through the sandbox environment', () => {
    const out = execFileSync('appcmd', ['list', 'apppool', 'DefaultAppPool'], { env: { ...process.env, ...box.env }, encoding: 'utf8' })
    expect(out).toBe('APPPOOL "DefaultAppPool" (MgdVersion:v4.0,MgdMode:Integrated,state:Started)\n')
  })

  it('answers as a process exactly as in process, Windows exit codes taken modulo 256', async () => {
    const argv = ['add', 'app', '/site.name:Nope', '/path:/x']
    const asProcess = await runDoubleProcess(box.appcmdPath, argv, box.env)
    expect(asProcess).toEqual(await runDouble(box.appcmdPath, argv, box.env))
    expect(asProcess.exitCode).toBe(1168 % 256)
    expect((await runDoubleProcess(box.icaclsPath, [join(box.dir, 'missing')], box.env)).exitCode).toBe(2)
  })

  it('is never imported by product code', () => {
    const offenders: string[] = []
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name)
        if (entry.isDirectory()) walk(full)
        else if (
          /(appcmd|icacls)-(double|core)|support\/doubles|double-runner|iis-sandbox|applicationHost\.seed/.test(readFileSync(full, 'utf8'))
        )
          offenders.push(full)
      }
    }
    walk(join(import.meta.dirname, '..', 'src'))
    expect(offenders).toEqual([])
  })
})
