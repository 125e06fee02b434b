import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { appProcessEnv, toolEnv } from '../src/python/environment.js'
import { copyProject, treeHash } from '../src/python/release-files.js'

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'release-files-'))
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

function write(root: string, rel: string, content = rel): void {
  const file = path.join(root, ...rel.split('/'))
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
}

function project(name: string): string {
  const dir = path.join(scratch, name)
  for (const rel of [
    'manage.py',
    'requirements.txt',
    'mysite/__init__.py',
    'mysite/settings.py',
    'mysite/__pycache__/settings.cpython-311.pyc',
    'mysite/old.pyc',
    'env/lib/site.py',
    'env/pyvenv.cfg',
    'venv/bin/python',
    '.venv/bin/python',
    '.git/HEAD',
    'node_modules/x/index.js',
    'staticfiles/admin/base.css',
    'assets/app.css',
    'db.sqlite3',
    '.env',
    'environment/notes.txt'
  ]) {
    write(dir, rel)
  }
  return dir
}

describe('copyProject', () => {
  it('copies the code and leaves out VCS, caches, venvs, node_modules, the SQLite db and the project STATIC_ROOT', () => {
    const app = project('app')
    const target = path.join(scratch, 'releases', '1')
    const { files } = copyProject(app, target, { staticRoot: path.join(app, 'staticfiles') })
    expect(files).toEqual([
      'assets/app.css',
      'environment/notes.txt',
      'manage.py',
      'mysite/__init__.py',
      'mysite/settings.py',
      'requirements.txt'
    ])
    expect(fs.readFileSync(path.join(target, 'mysite', 'settings.py'), 'utf8')).toBe('mysite/settings.py')
    for (const gone of ['env', 'venv', '.venv', '.git', 'node_modules', 'staticfiles', 'db.sqlite3', '.env', 'mysite/__pycache__']) {
      expect(fs.existsSync(path.join(target, gone))).toBe(false)
    }
  })

  it('keeps a staticfiles folder that is not the STATIC_ROOT', () => {
    const app = project('app-no-static-root')
    const { files } = copyProject(app, path.join(scratch, 'releases', '2'))
    expect(files).toContain('staticfiles/admin/base.css')
  })

  it('leaves out folders it is told to, such as an output-dir inside app-dir', () => {
    const app = project('app-with-output')
    write(app, 'iis-deploy-output/plan.json')
    const { files } = copyProject(app, path.join(scratch, 'releases', '3'), { exclude: [path.join(app, 'iis-deploy-output')] })
    expect(files.some(f => f.startsWith('iis-deploy-output/'))).toBe(false)
    expect(files).toContain('manage.py')
  })

  it('does not copy a deploy-root that lies inside app-dir into the release', () => {
    const app = project('app-with-deploy-root')
    write(app, 'deploy/releases/old/manage.py')
    const { files } = copyProject(app, path.join(app, 'deploy', 'releases', 'new'))
    expect(files.some(f => f.startsWith('deploy/'))).toBe(false)
    expect(files).toContain('manage.py')
  })
})

describe('treeHash', () => {
  it('is the same for equal trees and changes with a content, a name or an added file', () => {
    const a = path.join(scratch, 'tree-a')
    const b = path.join(scratch, 'tree-b')
    for (const dir of [a, b]) {
      write(dir, 'x/one.py', 'print(1)')
      write(dir, 'two.txt', 'two')
    }
    const hash = treeHash(a)
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(treeHash(b)).toBe(hash)

    write(b, 'x/one.py', 'print(2)')
    expect(treeHash(b)).not.toBe(hash)
    write(b, 'x/one.py', 'print(1)')
    expect(treeHash(b)).toBe(hash)

    fs.renameSync(path.join(b, 'two.txt'), path.join(b, 'three.txt'))
    expect(treeHash(b)).not.toBe(hash)
    fs.renameSync(path.join(b, 'three.txt'), path.join(b, 'two.txt'))
    write(b, 'new.py', '')
    expect(treeHash(b)).not.toBe(hash)
  })
})

describe('child environments', () => {
  const runnerEnv = {
    PATH: '/usr/bin',
    GITHUB_TOKEN: 'ghs_abc',
    PYTHONPATH: '/elsewhere',
    PYTHONHOME: '/x',
    PIP_INDEX_URL: 'https://mirror',
    SystemRoot: 'C:\\Windows'
  }

  it('gives the app only machine basics and the registered variables, as IIS does', () => {
    const env = appProcessEnv(
      [
        { name: 'PYTHONPATH', value: '/release' },
        { name: 'SECRET', value: 's3cret' }
      ],
      runnerEnv
    )
    expect(env).toEqual({ PATH: '/usr/bin', SystemRoot: 'C:\\Windows', PYTHONPATH: '/release', SECRET: 's3cret' })
  })

  it('lets a registered variable replace a machine one whatever its case', () => {
    expect(appProcessEnv([{ name: 'Path', value: '/venv/bin' }], runnerEnv)).toEqual({ Path: '/venv/bin', SystemRoot: 'C:\\Windows' })
  })

  it('keeps pip settings for venv and pip, without Python start-up overrides', () => {
    const env = toolEnv(runnerEnv)
    expect(env.PIP_INDEX_URL).toBe('https://mirror')
    expect(env.PYTHONPATH).toBeUndefined()
    expect(env.PYTHONHOME).toBeUndefined()
  })
})
