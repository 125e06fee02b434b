/**
 * The IIS stand-in answers as IIS would for the cases the end-to-end tests lean on: locked handlers, an unmatched
 * scriptProcessor, the static vdir, the exact FastCGI environment, and a recycle when the registration changes.
 * The backend is real: /usr/bin/python3 with waitress, serving a tiny WSGI module.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TemplateSet } from '../src/render/templates.js'
import { contentTypeFor, contentTypeMatches } from '../src/verify/static.js'
import { LOCKED_SECTION_TEXT, NO_FASTCGI_APP_TEXT, startIisStandin, type IisStandin } from './support/iis-standin.mjs'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'
import { writeFiles } from './support/write-files.js'

const ARGS = '/opt/wfastcgi.py'
let dir: string
let configPath: string
let standin: IisStandin

const ECHO_APP = `import json, os


def application(environ, start_response):
    body = json.dumps({
        'env': sorted(k for k in os.environ if k not in ('PWD', 'LC_CTYPE')),
        'greeting': os.environ.get('GREETING'),
        'script_name': environ['SCRIPT_NAME'],
        'path_info': environ['PATH_INFO'],
        'cwd': os.getcwd(),
    }).encode()
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [body]
`

function appHost(opts: { unlocked: boolean; greeting: string; fullPath?: string }): string {
  const release = path.join(dir, 'release')
  const location = opts.unlocked
    ? '<location path="Default Web Site/app" overrideMode="Allow"><system.webServer><handlers /></system.webServer></location>'
    : ''
  return `<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <configSections>
    <sectionGroup name="system.webServer"><section name="handlers" overrideModeDefault="Deny" /></sectionGroup>
  </configSections>
  <system.applicationHost>
    <sites>
      <site name="Default Web Site" id="1">
        <application path="/"><virtualDirectory path="/" physicalPath="${dir}" /></application>
        <application path="/app" applicationPool="P">
          <virtualDirectory path="/" physicalPath="${release}" />
          <virtualDirectory path="/static" physicalPath="${path.join(release, 'static')}" />
          <virtualDirectory path="/assets/css" physicalPath="${path.join(dir, 'assets-css')}" />
        </application>
      </site>
    </sites>
  </system.applicationHost>
  <system.webServer>
    <fastCgi>
      <application fullPath="${opts.fullPath ?? SYSTEM_PYTHON}" arguments="${ARGS}">
        <environmentVariables>
          <environmentVariable name="WSGI_HANDLER" value="echo.application" />
          <environmentVariable name="PYTHONPATH" value="${release}" />
          <environmentVariable name="GREETING" value="${opts.greeting}" />
        </environmentVariables>
      </application>
    </fastCgi>
    <handlers accessPolicy="Read, Script">
      <add name="StaticFile" path="*" verb="*" modules="StaticFileModule,DefaultDocumentModule,DirectoryListingModule" resourceType="Either" requireAccess="Read" />
    </handlers>
  </system.webServer>
  ${location}
</configuration>
`
}

const STATIC_WEB_CONFIG = `<?xml version="1.0" encoding="utf-8"?>
<configuration><system.webServer><handlers><clear />
<add name="StaticFile" path="*" verb="*" modules="StaticFileModule,DefaultDocumentModule,DirectoryListingModule" resourceType="Either" requireAccess="Read" />
</handlers></system.webServer></configuration>
`

function appWebConfig(scriptProcessor: string, scriptName?: string): string {
  const settings =
    scriptName === undefined ? '' : `<appSettings><remove key="SCRIPT_NAME" /><add key="SCRIPT_NAME" value="${scriptName}" /></appSettings>`
  return `<?xml version="1.0" encoding="utf-8"?>
<configuration>${settings}<system.webServer><handlers>
<remove name="Python FastCGI" />
<add name="Python FastCGI" path="*" verb="*" modules="FastCgiModule" scriptProcessor="${scriptProcessor}" resourceType="Unspecified" requireAccess="Script" />
</handlers></system.webServer></configuration>
`
}

async function get(urlPath: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${standin.url}${urlPath}`)
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iis-standin-'))
  const release = path.join(dir, 'release')
  fs.mkdirSync(path.join(release, 'static', 'css'), { recursive: true })
  fs.writeFileSync(path.join(release, 'echo.py'), ECHO_APP)
  fs.writeFileSync(path.join(release, 'web.config'), appWebConfig(`${SYSTEM_PYTHON}|${ARGS}`))
  fs.writeFileSync(path.join(release, 'static', 'web.config'), STATIC_WEB_CONFIG)
  fs.writeFileSync(path.join(release, 'static', 'css', 'site.css'), 'body { color: green }\n')
  fs.writeFileSync(path.join(release, 'static', 'data.xyz'), 'unknown type\n')
  fs.mkdirSync(path.join(dir, 'assets-css'))
  fs.writeFileSync(path.join(dir, 'assets-css', 'web.config'), STATIC_WEB_CONFIG)
  fs.writeFileSync(path.join(dir, 'assets-css', 'app.css'), 'p { margin: 0 }\n')
  configPath = path.join(dir, 'applicationHost.config')
  fs.writeFileSync(configPath, appHost({ unlocked: false, greeting: 'hello' }))
  standin = await startIisStandin({ configPath })
})

afterAll(async () => {
  await standin?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

describe.sequential('IIS stand-in', () => {
  it('answers 500.19 (0x80070021) while the app may not declare handlers', async () => {
    const res = await get('/app/')
    expect(res.status).toBe(500)
    expect(res.body).toBe(LOCKED_SECTION_TEXT)
    expect(standin.backendStarts()).toBe(0)
  })

  it("answers IIS's scriptProcessor text when no FastCGI application matches the handler byte for byte", async () => {
    fs.writeFileSync(configPath, appHost({ unlocked: true, greeting: 'hello', fullPath: `&quot;${SYSTEM_PYTHON}&quot;` }))
    const res = await get('/app/')
    expect(res.status).toBe(500)
    expect(res.body).toBe(NO_FASTCGI_APP_TEXT)
  })

  it('runs the registration with exactly its variables, in the physical path; with no SCRIPT_NAME setting the app gets the whole URL path', async () => {
    fs.writeFileSync(configPath, appHost({ unlocked: true, greeting: 'hello' }))
    const res = await get('/app/some/page')
    expect(res.status).toBe(200)
    const seen = JSON.parse(res.body) as { env: string[]; greeting: string; script_name: string; path_info: string; cwd: string }
    expect(seen.env).toEqual(['GREETING', 'PYTHONPATH', 'WSGI_HANDLER'])
    // wfastcgi does not take the app's virtual path from IIS: SCRIPT_NAME stays empty.
    expect(seen).toMatchObject({ greeting: 'hello', script_name: '', path_info: '/app/some/page', cwd: path.join(dir, 'release') })
  })

  it("splits off a SCRIPT_NAME setting from the app's appSettings that prefixes the path ignoring case, and nothing else", async () => {
    const webConfig = path.join(dir, 'release', 'web.config')
    const starts = standin.backendStarts()
    fs.writeFileSync(webConfig, appWebConfig(`${SYSTEM_PYTHON}|${ARGS}`, '/other'))
    expect(JSON.parse((await get('/app/some/page')).body)).toMatchObject({ script_name: '', path_info: '/app/some/page' })
    // A changed web.config restarts the worker, as wfastcgi's watcher of *.config files does.
    expect(standin.backendStarts()).toBe(starts + 1)

    fs.writeFileSync(webConfig, appWebConfig(`${SYSTEM_PYTHON}|${ARGS}`, '/app'))
    const seen = JSON.parse((await get('/APP/some/page')).body) as { env: string[]; script_name: string; path_info: string }
    expect(seen).toMatchObject({ script_name: '/app', path_info: '/some/page' })
    expect(seen.env).toContain('SCRIPT_NAME')
  })

  it('serves the static vdir itself, with IIS content types and 404s, never through Python', async () => {
    const css = await get('/app/static/css/site.css')
    expect(css).toMatchObject({ status: 200, type: 'text/css', body: 'body { color: green }\n' })
    expect((await get('/app/static/css/missing.css')).status).toBe(404)
    const unknown = await get('/app/static/data.xyz')
    expect(unknown.status).toBe(404)
    expect(unknown.body).toContain('404.3')
    expect((await get('/')).status).toBe(404)
  })

  it('serves a content folder with its own static web.config itself with no vdir, and one without it through Python', async () => {
    const release = path.join(dir, 'release')
    fs.mkdirSync(path.join(release, 'collected', 'css'), { recursive: true })
    fs.writeFileSync(path.join(release, 'collected', 'web.config'), STATIC_WEB_CONFIG)
    fs.writeFileSync(path.join(release, 'collected', 'css', 'a.css'), 'a { color: red }\n')
    fs.mkdirSync(path.join(release, 'code'), { recursive: true })
    fs.writeFileSync(path.join(release, 'code', 'b.css'), 'b {}\n')
    try {
      expect(await get('/app/collected/css/a.css')).toMatchObject({ status: 200, type: 'text/css', body: 'a { color: red }\n' })
      const viaPython = await get('/app/code/b.css')
      expect(viaPython.status).toBe(200)
      expect((JSON.parse(viaPython.body) as { path_info: string }).path_info).toMatch(/\/code\/b\.css$/)
    } finally {
      fs.rmSync(path.join(release, 'collected'), { recursive: true, force: true })
      fs.rmSync(path.join(release, 'code'), { recursive: true, force: true })
    }
  })

  it("serves what Django's admin collects with IIS's default types, and .woff2 and .json through the product's static web.config's mimeMaps", async () => {
    const staticDir = path.join(dir, 'release', 'static')
    const webConfig = path.join(staticDir, 'web.config')
    // Django 3.2's admin collects .css, .js, .svg and .woff files; .woff2 and .json are common in a project's own static.
    const files: Record<string, string> = {
      'admin/css/base.css': 'body {}\n',
      'admin/js/core.js': 'var x = 1\n',
      'admin/img/icon-yes.svg': '<svg/>\n',
      'admin/fonts/Roboto-Light-webfont.woff': 'woff\n',
      'fonts/icons.woff2': 'woff2\n',
      'data/site.json': '{}\n'
    }
    writeFiles(staticDir, files)
    fs.writeFileSync(webConfig, new TemplateSet().render('static-web.config', { staticUrlPath: '/app/static/' }))
    try {
      const served = {
        css: await get('/app/static/admin/css/base.css'),
        js: await get('/app/static/admin/js/core.js'),
        svg: await get('/app/static/admin/img/icon-yes.svg'),
        woff: await get('/app/static/admin/fonts/Roboto-Light-webfont.woff')
      }
      expect(Object.fromEntries(Object.entries(served).map(([k, r]) => [k, [r.status, r.type]]))).toEqual({
        css: [200, 'text/css'],
        js: [200, 'application/javascript'],
        svg: [200, 'image/svg+xml'],
        woff: [200, 'font/x-woff']
      })
      // The product's verify accepts IIS's spelling of each admin type.
      for (const [rel, res] of [
        ['admin/css/base.css', served.css],
        ['admin/js/core.js', served.js],
        ['admin/img/icon-yes.svg', served.svg],
        ['x.woff', served.woff]
      ] as const) {
        expect(contentTypeMatches(res.type, contentTypeFor(rel)), rel).toBe(true)
      }
      // IIS's default map has no entry for these; the product's web.config adds them (remove first).
      expect((await get('/app/static/fonts/icons.woff2')).type).toBe('font/woff2')
      expect((await get('/app/static/data/site.json')).type).toBe('application/json')
      // Without those mimeMaps the default map decides: no entry, 404.3.
      fs.writeFileSync(webConfig, STATIC_WEB_CONFIG)
      for (const url of ['/app/static/fonts/icons.woff2', '/app/static/data/site.json']) {
        const res = await get(url)
        expect(res.status, url).toBe(404)
        expect(res.body, url).toContain('404.3')
      }
      // A mimeMap for an extension the map already has, without <remove>, is a duplicate key: 500.19.
      fs.writeFileSync(
        webConfig,
        STATIC_WEB_CONFIG.replace(
          '</system.webServer>',
          '<staticContent><mimeMap fileExtension=".css" mimeType="text/css" /></staticContent></system.webServer>'
        )
      )
      const duplicate = await get('/app/static/admin/css/base.css')
      expect(duplicate.status).toBe(500)
      expect(duplicate.body).toContain('0x800700b7')
    } finally {
      fs.writeFileSync(webConfig, STATIC_WEB_CONFIG)
    }
  })

  it('serves a vdir with several path segments from its own folder; the rest of the app still goes to Python', async () => {
    expect(await get('/app/assets/css/app.css')).toMatchObject({ status: 200, type: 'text/css', body: 'p { margin: 0 }\n' })
    expect(await get('/app/ASSETS/css/app.css')).toMatchObject({ status: 200, type: 'text/css' })
    const beside = await get('/app/assets/js/app.js')
    expect(beside.type).toBe('application/json')
    expect(JSON.parse(beside.body)).toMatchObject({ path_info: '/assets/js/app.js' })
  })

  it('without the static web.config, /static requests fall to the FastCGI handler inherited from the app', async () => {
    fs.rmSync(path.join(dir, 'release', 'static', 'web.config'))
    const res = await get('/app/static/css/site.css')
    expect(res.type).toBe('application/json')
    expect(JSON.parse(res.body)).toMatchObject({ path_info: '/static/css/site.css' })
    fs.writeFileSync(path.join(dir, 'release', 'static', 'web.config'), STATIC_WEB_CONFIG)
  })

  it('restarts the backend when the variables change, and keeps it while they do not', async () => {
    const before = standin.backend()?.pid
    const starts = standin.backendStarts()
    await get('/app/')
    expect(standin.backend()?.pid).toBe(before)
    fs.writeFileSync(configPath, appHost({ unlocked: true, greeting: 'bonjour' }))
    const res = await get('/app/')
    expect(JSON.parse(res.body)).toMatchObject({ greeting: 'bonjour' })
    expect(standin.backendStarts()).toBe(starts + 1)
    expect(standin.backend()?.pid).not.toBe(before)
  })
})
