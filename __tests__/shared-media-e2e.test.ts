/**
 * Uploads across deploys, in-process over the appcmd and icacls doubles and the IIS stand-in, with real Python and
 * Debian's Django 3.2: a file uploaded through the app before a second deploy is still served by IIS after it and
 * after a rollback, while uploaded code and configuration are never run or served.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run, type RunDeps } from '../src/main.js'
import { execRunner, type ProcessRunner } from '../src/process.js'
import { captureLog } from './support/iis-test-log.js'
import { createIisSandbox, sandboxRunner, type IisSandbox } from './support/iis-sandbox.js'
import { LOCKED_SECTION_TEXT, startIisStandin, type IisStandin } from './support/iis-standin.mjs'
import { EXAMPLE_APP } from './support/run-action.js'
import { buildWheelhouse, SYSTEM_PYTHON } from './support/wheelhouse.js'

const APP = '/app'
const SECRET = 'media-e2e-secret-key-7c1d9e3f5a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d'
let work = ''
let deployRoot = ''
let wheelhouse = ''
let sandbox: IisSandbox
let standin: IisStandin

/** examples/hello with uploads: MEDIA_ROOT in the project, MEDIA_URL under the app, a view that saves a file. */
function project(name: string, greeting: string): string {
  const dir = path.join(work, name)
  fs.cpSync(EXAMPLE_APP, dir, { recursive: true })
  fs.mkdirSync(path.join(dir, 'media'))
  fs.writeFileSync(path.join(dir, 'media', 'welcome.txt'), 'seeded from the project')
  fs.appendFileSync(path.join(dir, 'hello', 'settings.py'), "\nMEDIA_ROOT = BASE_DIR / 'media'\nMEDIA_URL = 'media/'\n")
  const urls = path.join(dir, 'hello', 'urls.py')
  const text = fs
    .readFileSync(urls, 'utf8')
    .replace("'Hello from Django'", `'${greeting}'`)
    .replace(
      'urlpatterns = [',
      `from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def upload(request, name):
    return HttpResponse(default_storage.save(name, ContentFile(request.body)))


urlpatterns = [
    path('upload/<path:name>', upload),`
    )
  fs.writeFileSync(urls, text)
  return dir
}

async function deploy(inputs: Record<string, string>): Promise<{ failures: string[]; outputs: Record<string, string>; log: string }> {
  const all: Record<string, string> = {
    mode: 'deploy',
    'deploy-root': deployRoot,
    'app-path': APP,
    python: SYSTEM_PYTHON,
    'venv-system-site-packages': 'true',
    'pip-args': `--no-index --find-links ${wheelhouse}`,
    env: 'DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost',
    'secret-env': `DJANGO_SECRET_KEY=${SECRET}`,
    appcmd: sandbox.appcmdPath,
    icacls: sandbox.icaclsPath,
    'verify-url': `${standin.url}${APP}/`,
    'verify-timeout': '30',
    'lock-dir': path.join(work, 'server-lock'),
    'shared-dirs': 'media',
    'output-dir': path.join(work, `out-${Math.random().toString(36).slice(2)}`),
    ...inputs
  }
  const failures: string[] = []
  const outputs: Record<string, string> = {}
  const log = captureLog()
  // appcmd and icacls answered by the doubles; Python and the rest run for real with the environment they are given.
  const doubles = sandboxRunner(sandbox)
  const runner: ProcessRunner = {
    run: (file, args, options = {}) =>
      /^(appcmd|icacls)(\.exe)?$/i.test(path.win32.basename(file)) ? doubles.run(file, args, options) : execRunner.run(file, args, options)
  }
  const deps: RunDeps = {
    inputs: name => all[name] ?? '',
    env: { ...sandbox.env },
    cwd: work,
    runner,
    log,
    setOutput: (name, value) => {
      outputs[name] = String(value)
    },
    summary: { addRaw: () => undefined, write: async () => undefined },
    setFailed: message => failures.push(message)
  }
  await run(deps)
  return { failures, outputs, log: log.lines.join('\n') }
}

async function get(urlPath: string): Promise<{ status: number; body: string; nosniff: string | null }> {
  const res = await fetch(`${standin.url}${urlPath}`)
  return { status: res.status, body: await res.text(), nosniff: res.headers.get('x-content-type-options') }
}

async function upload(name: string, body: string): Promise<string> {
  const res = await fetch(`${standin.url}${APP}/upload/${name}`, { method: 'POST', body })
  expect(res.status).toBe(200)
  return res.text()
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'media-e2e-'))
  deployRoot = path.join(work, 'deploy-root')
  sandbox = createIisSandbox()
  wheelhouse = await buildWheelhouse(path.join(work, 'wheelhouse'))
  standin = await startIisStandin({ configPath: sandbox.configPath })
})

afterAll(async () => {
  await standin?.close()
  sandbox?.cleanup()
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

describe.sequential('uploads in shared-dirs, served by IIS across deploys and a rollback', () => {
  it('first deploy seeds shared/media from the project and IIS serves it as plain files with nosniff', async () => {
    const r = await deploy({ 'app-dir': project('v1', 'Hello v1'), 'release-id': 'r1' })
    expect(r.failures, r.log.slice(-3000)).toEqual([])
    expect(fs.lstatSync(path.join(deployRoot, 'releases', 'r1', 'media')).isSymbolicLink()).toBe(true)
    expect(await get(`${APP}/media/welcome.txt`)).toEqual({ status: 200, body: 'seeded from the project', nosniff: 'nosniff' })
    expect(
      sandbox
        .aclGrants()
        .filter(g => g.path === path.join(deployRoot, 'shared'))
        .map(g => g.perm)
    ).toEqual(['(OI)(CI)M'])
  })

  it('an upload through the app lands in shared/ and IIS serves it, uploaded code and config never', async () => {
    expect(await upload('photo.txt', 'uploaded before r2')).toBe('photo.txt')
    expect(fs.readFileSync(path.join(deployRoot, 'shared', 'media', 'photo.txt'), 'utf8')).toBe('uploaded before r2')
    expect(await get(`${APP}/media/photo.txt`)).toMatchObject({ status: 200, body: 'uploaded before r2' })
    expect(await upload('evil.py', 'print(1)')).toBe('evil.py')
    expect((await get(`${APP}/media/evil.py`)).status).toBe(404)
    expect(await upload('page.aspx', '<% x %>')).toBe('page.aspx')
    expect((await get(`${APP}/media/page.aspx`)).status).toBe(404)
    // A web.config uploaded into a subfolder may not add a handler there: IIS refuses the folder instead.
    const handler = `<configuration><system.webServer><handlers><add name="x" path="*" verb="*" modules="FastCgiModule" scriptProcessor="x" /></handlers></system.webServer></configuration>`
    expect(await upload('docs/web.config', handler)).toBe('docs/web.config')
    expect(await upload('docs/readme.txt', 'text')).toBe('docs/readme.txt')
    expect(await get(`${APP}/media/docs/readme.txt`)).toMatchObject({ status: 500, body: LOCKED_SECTION_TEXT })
    // Its folder's configuration is refused before request filtering could answer 404.8: never served either way.
    const config = await get(`${APP}/media/docs/web.config`)
    expect(config.status).toBe(500)
    expect(config.body).not.toContain('FastCgiModule')
    expect((await get(`${APP}/media/web.config`)).status).toBe(404)
  })

  it('a second deploy keeps the upload: served after it, and after a rollback to the first release', async () => {
    const r2 = await deploy({ 'app-dir': project('v2', 'Hello v2'), 'release-id': 'r2' })
    expect(r2.failures, r2.log.slice(-3000)).toEqual([])
    expect(await get(`${APP}/`)).toMatchObject({ status: 200, body: 'Hello v2' })
    expect(await get(`${APP}/media/photo.txt`)).toMatchObject({ status: 200, body: 'uploaded before r2', nosniff: 'nosniff' })
    // The project's changed seed does not overwrite what is in shared/.
    expect(fs.readFileSync(path.join(deployRoot, 'shared', 'media', 'welcome.txt'), 'utf8')).toBe('seeded from the project')

    const back = await deploy({ mode: 'rollback', 'app-dir': project('v3', 'Hello v3') })
    expect(back.failures, back.log.slice(-3000)).toEqual([])
    expect(await get(`${APP}/`)).toMatchObject({ status: 200, body: 'Hello v1' })
    expect(await get(`${APP}/media/photo.txt`)).toMatchObject({ status: 200, body: 'uploaded before r2', nosniff: 'nosniff' })
  })

  it('retention deletes old releases and their links, never the uploads behind them', async () => {
    for (const id of ['r5', 'r6']) {
      const r = await deploy({ 'app-dir': project(`v-${id}`, `Hello ${id}`), 'release-id': id, 'keep-releases': '2' })
      expect(r.failures, r.log.slice(-3000)).toEqual([])
    }
    expect(fs.existsSync(path.join(deployRoot, 'releases', 'r2'))).toBe(false)
    expect(fs.readFileSync(path.join(deployRoot, 'shared', 'media', 'photo.txt'), 'utf8')).toBe('uploaded before r2')
    expect(fs.readFileSync(path.join(deployRoot, 'shared', 'media', 'docs', 'readme.txt'), 'utf8')).toBe('text')
    expect(await get(`${APP}/`)).toMatchObject({ status: 200, body: 'Hello r6' })
    expect(await get(`${APP}/media/photo.txt`)).toMatchObject({ status: 200, body: 'uploaded before r2' })
  })

  it('uploads do not make the release new: a redeploy of the same code is a no-op with no appcmd write and no icacls', async () => {
    expect(await upload('after-r6.txt', 'new upload')).toBe('after-r6.txt')
    fs.writeFileSync(path.join(work, 'v-r6', 'media', 'welcome.txt'), 'the project copy changed too')
    const configBefore = sandbox.readConfig()
    sandbox.resetCounters()
    const r = await deploy({ 'app-dir': path.join(work, 'v-r6'), 'release-id': 'r7', 'keep-releases': '2' })
    expect(r.failures, r.log.slice(-3000)).toEqual([])
    expect(r.outputs.changed).toBe('false')
    expect(r.outputs.release).toBe('r6')
    expect(sandbox.mutatingCalls()).toEqual([])
    expect(sandbox.aclGrants()).toEqual([])
    expect(sandbox.readConfig()).toBe(configBefore)
    expect(await get(`${APP}/media/after-r6.txt`)).toMatchObject({ status: 200, body: 'new upload', nosniff: 'nosniff' })
  })

  it('a deploy whose MEDIA_ROOT is not shared stops before IIS is touched, naming the setting and the input', async () => {
    const before = sandbox.readConfig()
    const r = await deploy({ 'app-dir': project('v4', 'Hello v4'), 'release-id': 'r4', 'shared-dirs': '' })
    expect(r.failures.join('\n')).toMatch(
      /MEDIA_ROOT resolves to \S+r4\/media, inside the release, which the next deploy replaces: add `media` to shared-dirs/
    )
    expect(sandbox.readConfig()).toBe(before)
    expect(await get(`${APP}/media/photo.txt`)).toMatchObject({ status: 200, body: 'uploaded before r2' })
  })
})
