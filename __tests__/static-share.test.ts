// A new release's collected static files: the unchanged ones are hard links to the earlier release's files
// (src/python/scripts/static_reuse.py), and the folder still holds exactly what a fresh collectstatic writes. Its
// unchanged modules' bytecode is shared the same way (src/python/shared-bytecode.ts). Real
// Django 3.2 from Debian, in a real venv, against copies of examples/hello.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { DeployConfig } from '../src/config.js'
import { getInputs } from '../src/inputs/read.js'
import { layoutFor } from '../src/layout.js'
import { probeInterpreter, type InterpreterInfo } from '../src/python/interpreter.js'
import { TemplateSet } from '../src/render/templates.js'
import { stageRelease } from '../src/stage.js'
import { countingRunner } from './support/counting-runner.js'
import { captureLog, type CapturedLog } from './support/iis-test-log.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { SYSTEM_PYTHON, buildWheelhouse } from './support/wheelhouse.js'
import { writeFiles } from './support/write-files.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'static-share-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
const runner = countingRunner()
let interpreter: InterpreterInfo
let wheelhouse = ''

beforeAll(async () => {
  interpreter = await probeInterpreter(runner, SYSTEM_PYTHON)
  wheelhouse = await buildWheelhouse(path.join(root, 'wheels'))
})

function configFor(appDir: string, deployRoot: string, releaseId: string): DeployConfig {
  const all: Record<string, string> = {
    'app-dir': appDir,
    'deploy-root': deployRoot,
    'app-path': '/app',
    'release-id': releaseId,
    python: SYSTEM_PYTHON,
    'venv-system-site-packages': 'true',
    'pip-args': `--no-index --find-links ${wheelhouse}`,
    'secret-env': 'DJANGO_SECRET_KEY=static-share-secret-5c1d9e7a3b8f2e4d6a0c'
  }
  return getInputs(name => all[name] ?? '', {}, appDir)
}

/** examples/hello with static files of its own app (found by the app directories finder), and a code file to edit. */
function project(name: string, settingsTail = ''): string {
  const dir = path.join(root, name)
  fs.cpSync(EXAMPLE_APP, dir, { recursive: true })
  writeFiles(dir, {
    'hello/static/hello/site.css': 'body { color: black }\n',
    'hello/static/hello/logo.txt': 'logo\n',
    'hello/static/hello/old/gone.css': 'p { margin: 0 }\n',
    'hello/version.py': 'VERSION = 1\n'
  })
  if (settingsTail) fs.appendFileSync(path.join(dir, 'hello', 'settings.py'), `\n${settingsTail}\n`)
  return dir
}

/** The next release of the project: one code change, one static file changed and one removed with its folder. */
function changeProject(dir: string): void {
  fs.writeFileSync(path.join(dir, 'hello', 'version.py'), 'VERSION = 2\n')
  fs.writeFileSync(path.join(dir, 'hello', 'static', 'hello', 'site.css'), 'body { color: navy }\n')
  fs.rmSync(path.join(dir, 'hello', 'static', 'hello', 'old'), { recursive: true })
}

async function stage(config: DeployConfig): Promise<CapturedLog> {
  const log = captureLog()
  await stageRelease({ runner, log, templates: new TemplateSet(config.templatesDir) }, config, interpreter)
  return log
}

/** Every folder and file under dir, relative, with / separators: files with their bytes. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name)
    const rel = path.relative(dir, full).split(path.sep).join('/')
    out.set(rel, entry.isDirectory() ? '<dir>' : fs.readFileSync(full, 'latin1'))
  }
  return out
}

const inode = (file: string) => fs.statSync(file).ino

describe('sharing collected static files with the earlier release', () => {
  it('links the unchanged files, copies the changed one, drops the removed one, and matches a fresh collectstatic', async () => {
    const dir = project('hello')
    const deployRoot = path.join(root, 'deploy')
    const layout = layoutFor(deployRoot)
    await stage(configFor(dir, deployRoot, 'r1'))
    const r1 = layout.staticDir('r1')
    const r1Before = tree(r1)
    const r1SiteInode = inode(path.join(r1, 'hello', 'site.css'))
    // Newer than any source, as a file a wheel installs with its build time is older than its collected copy:
    // collectstatic alone would keep the stale file, were it shared.
    const later = new Date(Date.now() + 86_400_000)
    fs.utimesSync(path.join(r1, 'hello', 'site.css'), later, later)

    changeProject(dir)
    const log = await stage(configFor(dir, deployRoot, 'r2'))
    const r2 = layout.staticDir('r2')

    // Unchanged: the very file of r1, from Django admin and from the project's own app.
    expect(inode(path.join(r2, 'admin', 'css', 'base.css'))).toBe(inode(path.join(r1, 'admin', 'css', 'base.css')))
    expect(inode(path.join(r2, 'hello', 'logo.txt'))).toBe(inode(path.join(r1, 'hello', 'logo.txt')))
    // Changed: a file of its own, and r1's file is untouched, bytes and inode.
    expect(fs.readFileSync(path.join(r2, 'hello', 'site.css'), 'utf8')).toBe('body { color: navy }\n')
    expect(inode(path.join(r2, 'hello', 'site.css'))).not.toBe(r1SiteInode)
    expect(inode(path.join(r1, 'hello', 'site.css'))).toBe(r1SiteInode)
    expect(tree(r1)).toEqual(r1Before)
    // Removed: neither the file nor its emptied folder.
    expect(fs.existsSync(path.join(r2, 'hello', 'old'))).toBe(false)

    // The same project collected into an empty deploy-root: the same folders and files, byte for byte.
    const freshRoot = path.join(root, 'fresh')
    await stage(configFor(dir, freshRoot, 'f1'))
    expect(tree(r2)).toEqual(tree(layoutFor(freshRoot).staticDir('f1')))

    // Every collected file but the changed site.css came from r1.
    const line = log.lines.find(l => l.includes('static files collected into')) ?? ''
    const [, collected, shared] =
      /^info: (\d+) static files collected into (?:.+), (\d+) of them unchanged and shared with /.exec(line) ?? []
    expect(Number(collected)).toBeGreaterThan(100)
    expect(Number(shared)).toBe(Number(collected) - 1)
    expect(line).toContain(`collected into ${r2}, `)
    expect(line).toContain(`shared with ${r1} (hard links).`)
  })

  it('shares with ManifestStaticFilesStorage, whose hashed copies and manifest are written anew', async () => {
    const dir = project('manifest', "STATICFILES_STORAGE = 'django.contrib.staticfiles.storage.ManifestStaticFilesStorage'")
    const deployRoot = path.join(root, 'deploy-manifest')
    const layout = layoutFor(deployRoot)
    await stage(configFor(dir, deployRoot, 'm1'))
    const m1 = layout.staticDir('m1')
    const m1Manifest = fs.readFileSync(path.join(m1, 'staticfiles.json'), 'utf8')

    changeProject(dir)
    await stage(configFor(dir, deployRoot, 'm2'))
    const m2 = layout.staticDir('m2')
    expect(inode(path.join(m2, 'admin', 'css', 'base.css'))).toBe(inode(path.join(m1, 'admin', 'css', 'base.css')))
    // The manifest of m1 still names m1's hashed site.css; m2's names the new one.
    const paths = (text: string) => (JSON.parse(text) as { paths: Record<string, string> }).paths
    expect(fs.readFileSync(path.join(m1, 'staticfiles.json'), 'utf8')).toBe(m1Manifest)
    const oldHashed = paths(m1Manifest)['hello/site.css'] ?? ''
    const newHashed = paths(fs.readFileSync(path.join(m2, 'staticfiles.json'), 'utf8'))['hello/site.css'] ?? ''
    expect(newHashed).not.toBe(oldHashed)
    expect(fs.readFileSync(path.join(m2, newHashed), 'utf8')).toBe('body { color: navy }\n')
    expect(fs.readFileSync(path.join(m1, oldHashed), 'utf8')).toBe('body { color: black }\n')

    const freshRoot = path.join(root, 'fresh-manifest')
    await stage(configFor(dir, freshRoot, 'f1'))
    expect(tree(m2)).toEqual(tree(layoutFor(freshRoot).staticDir('f1')))
  })

  it('copies every file, and says why, for a storage it does not know', async () => {
    const dir = project('custom-storage', "STATICFILES_STORAGE = 'hello.storage.InPlaceStorage'")
    fs.writeFileSync(
      path.join(dir, 'hello', 'storage.py'),
      'from django.contrib.staticfiles.storage import StaticFilesStorage\n\n\nclass InPlaceStorage(StaticFilesStorage):\n    pass\n'
    )
    const deployRoot = path.join(root, 'deploy-custom')
    const layout = layoutFor(deployRoot)
    await stage(configFor(dir, deployRoot, 'c1'))
    changeProject(dir)
    const log = await stage(configFor(dir, deployRoot, 'c2'))
    const base = (id: string) => path.join(layout.staticDir(id), 'admin', 'css', 'base.css')
    expect(inode(base('c2'))).not.toBe(inode(base('c1')))
    expect(fs.readFileSync(base('c2'), 'utf8')).toBe(fs.readFileSync(base('c1'), 'utf8'))
    expect(log.lines).toContain(
      `info: Static files not shared with ${layout.staticDir('c1')}: the static files storage hello.storage.InPlaceStorage may write a file in place; collectstatic copied them.`
    )
  })
})

const importReuse = [
  'import json, os, sys',
  `sys.path.insert(0, ${JSON.stringify(path.join(import.meta.dirname, '..', 'src', 'python', 'scripts'))})`,
  'import static_reuse'
]
const python = (script: string) => execFileSync(SYSTEM_PYTHON, ['-c', script], { encoding: 'utf8' }).trim()

describe('sharing the bytecode Python compiled with the earlier release', () => {
  it("links the unchanged modules' cache files, which Python then uses as they are, and compiles the changed one", async () => {
    // The settings import hello.version, which changeProject edits: the check imports and caches both.
    const dir = project('bytecode', 'from hello.version import VERSION  # noqa: E402,F401')
    const deployRoot = path.join(root, 'bytecode-deploy')
    const layout = layoutFor(deployRoot)
    await stage(configFor(dir, deployRoot, 'b1'))
    // What a Python upgrade leaves in the live release: another interpreter's cache file of an unchanged module.
    const stale = path.join('hello', '__pycache__', 'settings.othervm-0.pyc')
    fs.writeFileSync(path.join(layout.releaseDir('b1'), stale), 'compiled by the Python before an upgrade')
    changeProject(dir)
    const log = await stage(configFor(dir, deployRoot, 'b2'))
    expect(fs.existsSync(path.join(layout.releaseDir('b2'), stale))).toBe(false)
    const cached = (id: string, module: string): string => {
      const folder = path.join(layout.releaseDir(id), 'hello', '__pycache__')
      const name = fs.readdirSync(folder).find(n => n === `${module}.${interpreter.cacheTag}.pyc`)
      if (!name) throw new Error(`release ${id} holds no bytecode of hello.${module}`)
      return path.join(folder, name)
    }
    // Shared, and still the same file once the check of b2 imported it: Python found it current, or it would have
    // written a new file over the name.
    for (const module of ['__init__', 'settings', 'urls', 'wsgi']) expect(inode(cached('b2', module))).toBe(inode(cached('b1', module)))
    expect(inode(cached('b2', 'version'))).not.toBe(inode(cached('b1', 'version')))
    const imported = execFileSync(SYSTEM_PYTHON, ['-B', '-c', 'import hello.version as v; print(v.VERSION)'], {
      cwd: layout.releaseDir('b2'),
      encoding: 'utf8'
    })
    expect(imported.trim()).toBe('2')
    // The log counts the files shared, and only those.
    const b2 = layout.releaseDir('b2')
    const shared = (fs.readdirSync(b2, { recursive: true }) as string[]).filter(rel => {
      if (!rel.endsWith('.pyc')) return false
      const twin = path.join(layout.releaseDir('b1'), rel)
      return fs.existsSync(twin) && inode(twin) === inode(path.join(b2, rel))
    })
    expect(shared.length).toBeGreaterThanOrEqual(4)
    const line = log.lines.find(l => l.includes('bytecode files Python compiled')) ?? ''
    expect(Number(/with (\d+) bytecode files/.exec(line)?.[1])).toBe(shared.length)
  })
})

describe('a failed stage of a release that shares files', () => {
  it('ends with its own error, not the delete that stopped, and leaves nothing that reads as a release', async () => {
    const dir = project('fails')
    const deployRoot = path.join(root, 'deploy-fails')
    const layout = layoutFor(deployRoot)
    await stage(configFor(dir, deployRoot, 'ok1'))
    changeProject(dir)
    fs.appendFileSync(path.join(dir, 'hello', 'settings.py'), '\nimport notinstalledpkg  # noqa\n')
    // On Windows a file the live release serves may be held open, and each shared file is that file.
    const rm = fs.rmSync.bind(fs)
    const spy = vi.spyOn(fs, 'rmSync').mockImplementation((target, options) => {
      if (path.basename(String(target)).startsWith('.pruning-'))
        throw Object.assign(new Error('resource busy or locked'), { code: 'EBUSY' })
      rm(target, options)
    })
    const log = captureLog()
    const config = configFor(dir, deployRoot, 'bad2')
    const error = await stageRelease({ runner, log, templates: new TemplateSet(config.templatesDir) }, config, interpreter).catch(
      (e: unknown) => e
    )
    spy.mockRestore()
    expect((error as Error).message).toContain("the app imports 'notinstalledpkg'")
    expect(fs.existsSync(layout.releaseDir('bad2'))).toBe(false)
    expect(
      log.lines.some(l =>
        /^warning: .*\.pruning-pid\d+-bad2, once .*bad2, is left over \(EBUSY: resource busy or locked\); a later run removes it$/.test(l)
      )
    ).toBe(true)
    // The live release's shared files are whole.
    expect(fs.readFileSync(path.join(layout.staticDir('ok1'), 'hello', 'site.css'), 'utf8')).toBe('body { color: black }\n')
  })
})

describe('static_reuse.py on its own', () => {
  it('removes the shared files the command neither kept nor wrote, and the folders they leave empty', () => {
    // A finder may list a file the command then passes over: the folder must still hold only what it collected.
    const dir = fs.mkdtempSync(path.join(root, 'sweep-'))
    const names = ['kept.css', 'written.css', 'a/b/dropped.css', 'c/dropped.css', 'c/other.css']
    writeFiles(dir, Object.fromEntries(names.map(rel => [rel, rel])))
    const script = [
      ...importReuse,
      'class Command: unmodified_files = ["kept.css"]; copied_files = ["written.css"]',
      `print(static_reuse.sweep(${JSON.stringify(dir)}, ["kept.css", "written.css", "a/b/dropped.css", "c/dropped.css"], Command()))`
    ].join('\n')
    expect(python(script)).toBe('1')
    expect([...tree(dir).keys()].sort()).toEqual(['c', 'c/other.css', 'kept.css', 'written.css'])
  })
  it('stops at a refused hard link, says why, and lists what it had linked', () => {
    const dir = fs.mkdtempSync(path.join(root, 'refused-'))
    writeFiles(dir, { 'src/a.css': 'a.css', 'src/b.css': 'b.css', 'live/a.css': 'a.css', 'live/b.css': 'b.css' })
    const script = [
      ...importReuse,
      `d = ${JSON.stringify(dir)}`,
      'static_reuse.sources = lambda: {"a.css": os.path.join(d, "src/a.css"), "b.css": os.path.join(d, "src/b.css")}',
      'real = os.link',
      'def link(a, b):',
      '    if b.endswith("b.css"): raise OSError(18, "Invalid cross-device link")',
      '    real(a, b)',
      'os.link = link',
      'linked = []',
      'why = static_reuse.share(os.path.join(d, "new"), os.path.join(d, "live"), linked)',
      'print(json.dumps([why, linked]))'
    ].join('\n')
    expect(JSON.parse(python(script))).toEqual(['the file system refused a hard link ([Errno 18] Invalid cross-device link)', ['a.css']])
    expect(fs.statSync(path.join(dir, 'new', 'a.css')).ino).toBe(fs.statSync(path.join(dir, 'live', 'a.css')).ino)
    expect(fs.existsSync(path.join(dir, 'new', 'b.css'))).toBe(false)
  })
})
