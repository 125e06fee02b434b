import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { layoutFor } from '../src/layout.js'
import { dataPathsFrom } from '../src/python/data-paths.js'
import { commandEnv, runScript, secretsOf, type DjangoOptions } from '../src/python/django-script.js'
import { linkShared, seedShared } from '../src/shared/links.js'
import { countingRunner } from './support/counting-runner.js'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'

// Real Python and Debian's Django 3.2: the settings are imported as the stage imports them.
const roots: string[] = []
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true })
})

const BASE = `from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = 'x' * 50
INSTALLED_APPS = ['django.contrib.contenttypes']
DATABASES = {}
`

/** A release of a one-file settings module, under a deploy-root whose shared-dirs hold `shared`. */
async function check(extra: string, shared: string[] = []): Promise<PhaseError | undefined> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'data-paths-'))
  roots.push(root)
  const layout = layoutFor(root)
  const app = path.join(root, 'app')
  fs.mkdirSync(path.join(app, 'site1'), { recursive: true })
  fs.writeFileSync(path.join(app, 'site1', '__init__.py'), '')
  fs.writeFileSync(path.join(app, 'site1', 'settings.py'), BASE + extra)
  const releaseDir = layout.releaseDir('r1')
  fs.cpSync(app, releaseDir, { recursive: true })
  const sharedPaths = { dirs: shared, files: [] }
  seedShared(layout, sharedPaths, app)
  linkShared(layout, sharedPaths, releaseDir)
  const opts: DjangoOptions = { venvPython: SYSTEM_PYTHON, projectDir: releaseDir, settingsModule: 'site1.settings', env: [] }
  const run = await runScript(
    countingRunner(),
    opts,
    { settings: true, data: { releaseDir, sharedDir: layout.sharedDir } },
    commandEnv(opts)
  )
  try {
    dataPathsFrom(run, opts, secretsOf(opts))
    return undefined
  } catch (e) {
    expect(e).toBeInstanceOf(PhaseError)
    return e as PhaseError
  }
}

describe('the preflight refuses settings whose files the next deploy would lose', () => {
  it('MEDIA_ROOT inside the release, naming the folder for shared-dirs', async () => {
    const error = await check("MEDIA_ROOT = BASE_DIR / 'media'\n")
    expect(error?.message).toMatch(
      /^MEDIA_ROOT resolves to \S+\/releases\/r1\/media, inside the release, which the next deploy replaces: add `media` to shared-dirs$/
    )
    expect(error?.phase).toBe('preflight')
  })

  it('MEDIA_ROOT behind a shared link passes (the link is resolved)', async () => {
    expect(await check("MEDIA_ROOT = BASE_DIR / 'media'\n", ['media'])).toBeUndefined()
  })

  it('an SQLite NAME inside the release, relative names included, and not :memory: or one outside', async () => {
    const error = await check("DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'var/db.sqlite3'}}\n")
    expect(error?.message).toMatch(
      /^DATABASES\['default'\]\['NAME'\] resolves to \S+\/r1\/var\/db\.sqlite3, inside the release, .*: add `var` to shared-dirs \(SQLite writes its journal beside the database\)$/
    )
    const top = await check("DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': BASE_DIR / 'db.sqlite3'}}\n")
    expect(top?.message).toMatch(
      /db\.sqlite3, inside the release, .*: move it into a folder of the project \(e\.g\. data\/db\.sqlite3\) and add that folder to shared-dirs, or add `db\.sqlite3` to shared-files$/
    )
    expect(await check("DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'}}\n")).toBeUndefined()
    expect(
      await check("DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': BASE_DIR / 'var' / 'db.sqlite3'}}\n", ['var'])
    ).toBeUndefined()
  })

  it('FILE_UPLOAD_TEMP_DIR inside the release', async () => {
    const error = await check("FILE_UPLOAD_TEMP_DIR = str(BASE_DIR / 'tmp' / 'uploads')\n")
    expect(error?.message).toMatch(
      /^FILE_UPLOAD_TEMP_DIR resolves to \S+\/r1\/tmp\/uploads, inside the release, .*: add `tmp\/uploads` to shared-dirs$/
    )
  })

  it('a FileBasedCache LOCATION inside the release, and not another backend', async () => {
    const error = await check(
      "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.filebased.FileBasedCache', 'LOCATION': BASE_DIR / 'cache'}}\n"
    )
    expect(error?.message).toMatch(
      /^CACHES\['default'\]\['LOCATION'\] resolves to \S+\/r1\/cache, inside the release, .*: add `cache` to shared-dirs$/
    )
    expect(
      await check("CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache', 'LOCATION': 'cache'}}\n")
    ).toBeUndefined()
  })

  it('SESSION_FILE_PATH inside the release when the file session engine is used, and only then', async () => {
    const error = await check("SESSION_ENGINE = 'django.contrib.sessions.backends.file'\nSESSION_FILE_PATH = BASE_DIR / 'sessions'\n")
    expect(error?.message).toMatch(
      /^SESSION_FILE_PATH resolves to \S+\/r1\/sessions, inside the release, .*: add `sessions` to shared-dirs$/
    )
    expect(await check("SESSION_FILE_PATH = BASE_DIR / 'sessions'\n")).toBeUndefined()
  })

  it('names every such setting, one line each, and passes paths outside deploy-root', async () => {
    const error = await check("MEDIA_ROOT = BASE_DIR / 'media'\nFILE_UPLOAD_TEMP_DIR = BASE_DIR / 'tmp'\n")
    expect(error?.message.split('\n').map(l => l.split(' ')[0])).toEqual(['MEDIA_ROOT', 'FILE_UPLOAD_TEMP_DIR'])
    expect(await check(`MEDIA_ROOT = ${JSON.stringify(os.tmpdir())}\n`)).toBeUndefined()
  })
})
