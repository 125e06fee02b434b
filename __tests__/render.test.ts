import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DOMParser, type Element as XmlElement } from '@xmldom/xmldom'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getInputs, type DeployConfig } from '../src/config.js'
import { InputError } from '../src/errors.js'
import { desiredState, type StageFacts } from '../src/plan/desired.js'
import { renderReleaseConfigs, scriptProcessor } from '../src/render/release-configs.js'
import { TemplateSet } from '../src/render/templates.js'
import { renderFreshConfig } from '../src/shibboleth/fresh.js'
import { xmlEscape } from '../src/render/xml.js'
import { writeFileAtomic } from '../src/render/atomic-write.js'
import { EXAMPLE_APP } from './support/run-action.js'

const golden = path.join(import.meta.dirname, 'golden')
let tmp: string

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'render-'))
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const facts: StageFacts = {
  releaseId: '101-1',
  venvHash: 'abc123def456',
  pythonVersion: '3.12',
  pythonHome: 'C:\\Python312',
  wsgiApplication: 'hello.wsgi.application',
  staticSettings: { staticUrl: 'static/', forceScriptName: null }
}

function config(over: Record<string, string> = {}): DeployConfig {
  const values: Record<string, string> = {
    mode: 'plan',
    'app-dir': EXAMPLE_APP,
    'deploy-root': 'C:\\inetpub\\wwwroot\\hello',
    'app-path': '/app',
    env: 'DJANGO_ALLOWED_HOSTS=localhost,web01',
    'secret-env': 'DJANGO_SECRET_KEY=top&secret<value>',
    ...over
  }
  return getInputs(name => values[name] ?? '', {}, EXAMPLE_APP)
}

/** Golden files are the reviewed expected output; UPDATE_GOLDEN=1 rewrites them for a deliberate change. */
function expectGolden(name: string, actual: string): void {
  const file = path.join(golden, name)
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, actual)
  expect(actual).toBe(fs.readFileSync(file, 'utf8'))
}

/** The attribute `name` of the first `element` that has it. */
function attr(xml: string, element: string, name: string): string | null {
  const doc = new DOMParser().parseFromString(xml, 'text/xml')
  const el = Array.from(doc.getElementsByTagName(element)).find(e => e.hasAttribute(name))
  return el ? el.getAttribute(name) : null
}

describe('release configs', () => {
  it('renders the FastCGI web.config and the static one (golden)', () => {
    const c = config()
    const files = renderReleaseConfigs(new TemplateSet(), c, desiredState(c, facts), facts)
    expect(files.map(f => f.relPath)).toEqual(['web.config', 'static/web.config'])
    expectGolden('fastcgi-web.config', files[0].content)
    expectGolden('static-web.config', files[1].content)
  })

  it("puts exactly the FastCGI registration's fullPath|arguments into scriptProcessor", () => {
    const c = config()
    const desired = desiredState(c, facts)
    const [web] = renderReleaseConfigs(new TemplateSet(), c, desired, facts)
    expect(desired.fastCgi?.fullPath).toBe('C:\\inetpub\\wwwroot\\hello\\venvs\\abc123def456\\Scripts\\python.exe')
    expect(desired.fastCgi?.arguments).toBe('C:\\inetpub\\wwwroot\\hello\\venvs\\abc123def456\\Lib\\site-packages\\wfastcgi.py')
    expect(attr(web.content, 'add', 'scriptProcessor')).toBe(scriptProcessor(desired.fastCgi!))
  })

  it('quotes a wfastcgi path with spaces and escapes it in XML, still equal after parsing', () => {
    const c = config({ 'deploy-root': 'C:\\Program Files\\My & Co\\app' })
    const desired = desiredState(c, facts)
    const [web] = renderReleaseConfigs(new TemplateSet(), c, desired, facts)
    expect(desired.fastCgi?.arguments).toBe('"C:\\Program Files\\My & Co\\app\\venvs\\abc123def456\\Lib\\site-packages\\wfastcgi.py"')
    expect(web.content).toContain(
      'scriptProcessor="C:\\Program Files\\My &amp; Co\\app\\venvs\\abc123def456\\Scripts\\python.exe|&quot;C:\\Program Files'
    )
    expect(attr(web.content, 'add', 'scriptProcessor')).toBe(scriptProcessor(desired.fastCgi!))
  })

  it('uses POSIX venv paths for a POSIX deploy-root', () => {
    const c = config({ 'deploy-root': '/srv/hello' })
    const desired = desiredState(c, facts)
    expect(desired.fastCgi?.fullPath).toBe('/srv/hello/venvs/abc123def456/bin/python')
    expect(desired.fastCgi?.arguments).toBe('/srv/hello/venvs/abc123def456/lib/python3.12/site-packages/wfastcgi.py')
    expect(desired.app.physicalPath).toBe('/srv/hello/releases/101-1')
  })

  it('renders the HttpPlatformHandler web.config without secrets (golden)', () => {
    const c = config({ hosting: 'httpplatform' })
    const desired = desiredState(c, facts)
    const [web] = renderReleaseConfigs(new TemplateSet(), c, desired, facts)
    expectGolden('httpplatform-web.config', web.content)
    expect(web.content).not.toContain('top&amp;secret')
    expect(web.content).not.toContain('DJANGO_SECRET_KEY')
    expect(desired.fastCgi).toBeUndefined()
    expect(desired.httpPlatformSecretEnv.map(v => v.name)).toEqual(['DJANGO_SECRET_KEY'])
    // HttpPlatformHandler forwards /app/... unchanged: waitress strips the prefix and reports it as SCRIPT_NAME.
    expect(attr(web.content, 'httpPlatform', 'arguments')).toBe(
      '-m waitress --listen=127.0.0.1:%HTTP_PLATFORM_PORT% --url-prefix=/app hello.wsgi:application'
    )
  })

  it('gives waitress no --url-prefix for a site root app, and leaves a user command as written', () => {
    const root = config({ hosting: 'httpplatform', 'app-path': '/' })
    const [rootWeb] = renderReleaseConfigs(new TemplateSet(), root, desiredState(root, facts), facts)
    expect(attr(rootWeb.content, 'httpPlatform', 'arguments')).toBe(
      '-m waitress --listen=127.0.0.1:%HTTP_PLATFORM_PORT% hello.wsgi:application'
    )
    const own = config({
      hosting: 'httpplatform',
      'app-path': '/dept/tools',
      'httpplatform-command': '-m waitress --port=%HTTP_PLATFORM_PORT% hello.wsgi:application'
    })
    const [ownWeb] = renderReleaseConfigs(new TemplateSet(), own, desiredState(own, facts), facts)
    expect(attr(ownWeb.content, 'httpPlatform', 'arguments')).toBe('-m waitress --port=%HTTP_PLATFORM_PORT% hello.wsgi:application')
  })

  it('puts the per-release settings in appSettings and keeps the registration free of them', () => {
    const c = config()
    const desired = desiredState(c, facts)
    const [web] = renderReleaseConfigs(new TemplateSet(), c, desired, facts)
    const doc = new DOMParser().parseFromString(web.content, 'text/xml')
    const settings = Array.from(doc.getElementsByTagName('appSettings')[0].getElementsByTagName('add')).map(a => [
      a.getAttribute('key'),
      a.getAttribute('value')
    ])
    // SCRIPT_NAME: wfastcgi moves the app path from PATH_INFO to SCRIPT_NAME only when this setting names it.
    expect(settings).toEqual([
      ['PYTHONPATH', 'C:\\inetpub\\wwwroot\\hello\\releases\\101-1'],
      ['WSGI_HANDLER', 'hello.wsgi.application'],
      ['SCRIPT_NAME', '/app']
    ])
    // What changes from release to release lives in the release: the registration's variables do not.
    expect(desired.fastCgi?.env.map(v => v.name)).toEqual([
      'DJANGO_SETTINGS_MODULE',
      'WSGI_LOG',
      'DJANGO_ALLOWED_HOSTS',
      'DJANGO_SECRET_KEY'
    ])
    const next = desiredState(c, { ...facts, releaseId: '102-1' })
    expect(next.fastCgi).toEqual(desired.fastCgi)
  })

  it('removes each appSettings key just before adding it, so a parent web.config with the same key cannot clash', () => {
    const c = config()
    const [web] = renderReleaseConfigs(new TemplateSet(), c, desiredState(c, facts), facts)
    const section = new DOMParser().parseFromString(web.content, 'text/xml').getElementsByTagName('appSettings')[0]
    const entries = Array.from(section.childNodes)
      .filter(n => n.nodeType === 1)
      .map(n => `${n.nodeName} ${(n as XmlElement).getAttribute('key') ?? ''}`)
    expect(entries).toEqual([
      'remove PYTHONPATH',
      'add PYTHONPATH',
      'remove WSGI_HANDLER',
      'add WSGI_HANDLER',
      'remove SCRIPT_NAME',
      'add SCRIPT_NAME'
    ])
  })

  it('gives a site root app no SCRIPT_NAME setting: wfastcgi then passes the whole path, which is the right one', () => {
    const c = config({ 'app-path': '/' })
    const [web] = renderReleaseConfigs(new TemplateSet(), c, desiredState(c, facts), facts)
    expect(web.content).not.toContain('SCRIPT_NAME')
  })

  it('never writes a secret into the FastCGI web.config either', () => {
    const c = config()
    for (const f of renderReleaseConfigs(new TemplateSet(), c, desiredState(c, facts), facts)) {
      expect(f.content).not.toContain('top&')
      expect(f.content).not.toContain('secret')
    }
  })
})

describe('fresh shibboleth2.xml', () => {
  it('renders the template for an IIS site with our Path, and passes the real SP check (golden)', () => {
    const text = renderFreshConfig({ siteId: 2, host: 'apps.example.edu', appPath: '/app', remoteUser: ['eppn'] }, new TemplateSet())
    expectGolden('fresh-shibboleth2.xml', text)
    const file = path.join(tmp, 'fresh-shibboleth2.xml')
    fs.writeFileSync(file, text)
    const check = spawnSync('shibd', ['-t', '-c', file], { encoding: 'utf8' })
    expect(check.error).toBeUndefined()
    expect(check.status).toBe(0)
  })
})

describe('rendered files, checked by a second parser', () => {
  // xmllint (libxml2) is not the parser the code uses: what both accept, IIS's own parser will too.
  it.each(['fastcgi-web.config', 'static-web.config', 'httpplatform-web.config', 'fresh-shibboleth2.xml'])(
    '%s is well-formed for xmllint',
    name => {
      const result = spawnSync('xmllint', ['--noout', path.join(golden, name)], { encoding: 'utf8' })
      expect(result.error).toBeUndefined()
      expect(result.stderr).toBe('')
      expect(result.status).toBe(0)
    }
  )

  it('xmllint does reject a malformed file (the check above can fail)', () => {
    const bad = path.join(tmp, 'bad.config')
    fs.writeFileSync(bad, '<configuration><handlers></configuration>\n')
    expect(spawnSync('xmllint', ['--noout', bad], { encoding: 'utf8' }).status).not.toBe(0)
  })
})

describe('templates', () => {
  it('escapes every XML-special character', () => {
    expect(xmlEscape(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f')
  })

  it('round-trips hostile values through a template', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'tpl-'))
    fs.writeFileSync(
      path.join(dir, 'static-web.config.hbs'),
      '<root v="{{xml staticUrlPath}}" w="{{staticUrlPath}}">{{xml staticUrlPath}}</root>\n'
    )
    const value = `/a&b<"x'>`
    const out = new TemplateSet(dir).render('static-web.config', { staticUrlPath: value })
    const doc = new DOMParser().parseFromString(out, 'text/xml')
    expect(doc.documentElement!.getAttribute('v')).toBe(value)
    expect(doc.documentElement!.getAttribute('w')).toBe(value)
    expect(doc.documentElement!.textContent).toBe(value)
  })

  it('reports a template syntax error with file and line', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'tpl-'))
    const file = path.join(dir, 'app-web.config.hbs')
    fs.writeFileSync(file, '<configuration>\n  <a b="{{xml scriptProcessor}}" />\n  {{#if x}}\n</configuration>\n')
    const templates = new TemplateSet(dir)
    expect(() => templates.checkAll(['app-web.config'])).toThrow(InputError)
    expect(() => templates.checkAll(['app-web.config'])).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: template syntax error`)
    )
  })

  it('refuses a template whose output is not well-formed XML', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'tpl-'))
    fs.writeFileSync(path.join(dir, 'static-web.config.hbs'), '<configuration><handlers></configuration>\n')
    expect(() => new TemplateSet(dir).render('static-web.config', { staticUrlPath: '/s/' })).toThrow(/not well-formed XML/)
  })

  it('refuses an unknown variable instead of rendering an empty attribute', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'tpl-'))
    fs.writeFileSync(path.join(dir, 'static-web.config.hbs'), '<c v="{{xml statikUrlPath}}" />\n')
    expect(() => new TemplateSet(dir).render('static-web.config', { staticUrlPath: '/s/' })).toThrow(
      /variable used at line 1 is not defined/
    )
  })
})

describe('writeFileAtomic', () => {
  it('writes, then reports an unchanged file without rewriting it', () => {
    const file = path.join(tmp, 'sub', 'web.config')
    expect(writeFileAtomic(file, 'one')).toBe(true)
    const before = fs.statSync(file)
    expect(writeFileAtomic(file, 'one')).toBe(false)
    // A rewrite renames a new file into place: same inode and mtime mean the file was not touched.
    expect(fs.statSync(file).ino).toBe(before.ino)
    expect(fs.statSync(file).mtimeMs).toBe(before.mtimeMs)
    expect(writeFileAtomic(file, 'two')).toBe(true)
    expect(fs.readFileSync(file, 'utf8')).toBe('two')
    expect(fs.readdirSync(path.dirname(file))).toEqual(['web.config'])
  })
})
