// A new release's Django steps (settings, collectstatic, check --deploy, preflight) run in one Python process,
// against examples/hello in a real venv with Debian's Django; failures still name their part.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DeployConfig } from '../src/config.js'
import { PhaseError } from '../src/errors.js'
import { getInputs } from '../src/inputs/read.js'
import { layoutFor } from '../src/layout.js'
import { probeInterpreter, type InterpreterInfo } from '../src/python/interpreter.js'
import { TemplateSet } from '../src/render/templates.js'
import { stageRelease } from '../src/stage.js'
import { countingRunner } from './support/counting-runner.js'
import { captureLog } from './support/iis-test-log.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { SYSTEM_PYTHON, buildWheelhouse } from './support/wheelhouse.js'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'stage-django-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
const runner = countingRunner()
let interpreter: InterpreterInfo
let wheelhouse = ''

function configFor(appDir: string, releaseId: string, inputs: Record<string, string> = {}): DeployConfig {
  const all: Record<string, string> = {
    'app-dir': appDir,
    'deploy-root': path.join(root, 'deploy-root'),
    'app-path': '/app',
    'release-id': releaseId,
    python: SYSTEM_PYTHON,
    'venv-system-site-packages': 'true',
    'pip-args': `--no-index --find-links ${wheelhouse}`,
    'secret-env': 'DJANGO_SECRET_KEY=stage-django-secret-0b6e1f3a9c7d4e2f8a5b',
    ...inputs
  }
  return getInputs(name => all[name] ?? '', {}, appDir)
}

function project(name: string, edit?: (dir: string) => void): string {
  const dir = path.join(root, name)
  fs.cpSync(EXAMPLE_APP, dir, { recursive: true })
  edit?.(dir)
  return dir
}

/**
 * The runs of the venv's interpreter (pip and the venv build use other argv): the Django steps' processes. A new
 * venv's one check of where wfastcgi.py lies (src/stage.ts, checkWfastcgiPath) imports no Django and is not one.
 */
function djangoRuns(config: DeployConfig): string[][] {
  const venvs = layoutFor(config.deployRoot).venvsDir
  const wfastcgiCheck = (args: readonly string[]): boolean => args.some(a => a.startsWith('import wfastcgi'))
  return runner.calls
    .filter(c => c.file.startsWith(venvs) && !c.args.includes('pip') && !c.args.includes('venv') && !wfastcgiCheck(c.args))
    .map(c => c.args)
}

async function stage(config: DeployConfig): ReturnType<typeof stageRelease> {
  return stageRelease({ runner, log: captureLog(), templates: new TemplateSet(config.templatesDir) }, config, interpreter)
}

beforeAll(async () => {
  interpreter = await probeInterpreter(runner, SYSTEM_PYTHON)
  wheelhouse = await buildWheelhouse(path.join(root, 'wheels'))
})

describe('staging a new release', () => {
  it('starts the venv interpreter for Django exactly once, and stages as before', async () => {
    const config = configFor(project('hello'), 'r1')
    // The venv is built first, so the count below is of the new release alone.
    runner.reset()
    const staged = await stage(config)
    const runs = djangoRuns(config)
    expect(runs).toHaveLength(1)
    expect(runs[0]?.[0]).toMatch(/release_checks\.py$/)
    expect(staged.releaseReused).toBe(false)
    expect(staged.facts.wsgiApplication).toBe('hello.wsgi.application')
    expect(staged.staticFiles).toContain('admin/css/base.css')
    expect(fs.existsSync(path.join(layoutFor(config.deployRoot).staticDir('r1'), 'admin', 'css', 'base.css'))).toBe(true)
    expect(staged.staticCheckUrl).toBe('/app/static/admin/css/base.css')
    expect(staged.checkWarnings.map(w => w.id)).toContain('security.W004')
  })

  it('names a package the settings import and the venv lacks, from the settings part', async () => {
    const dir = project('bad-settings', d => {
      const settings = path.join(d, 'hello', 'settings.py')
      fs.writeFileSync(settings, `import notinstalledpkg  # noqa\n${fs.readFileSync(settings, 'utf8')}`)
    })
    const config = configFor(dir, 'r2')
    runner.reset()
    const error = await stage(config).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PhaseError)
    expect((error as PhaseError).message).toContain(
      "Django settings 'hello.settings' could not be loaded: import error: the app imports 'notinstalledpkg', which is not installed in the venv; add it to requirements"
    )
    expect(djangoRuns(config)).toHaveLength(1)
    expect(fs.existsSync(layoutFor(config.deployRoot).releaseDir('r2'))).toBe(false)
  })

  it('fails on a check --deploy error and never makes the request', async () => {
    const dir = project('check-error', d => {
      const settings = path.join(d, 'hello', 'settings.py')
      fs.appendFileSync(
        settings,
        '\nSILENCED_SYSTEM_CHECKS = []\nfrom django.core.checks import Error, register\n\n@register()\ndef always(app_configs, **kwargs):\n    return [Error("stage-django test error", id="hello.E001")]\n'
      )
    })
    const config = configFor(dir, 'r3')
    runner.reset()
    const error = await stage(config).catch((e: unknown) => e)
    expect((error as PhaseError).message).toContain('manage.py check --deploy found 1 error(s)')
    expect((error as PhaseError).message).toContain('hello.E001')
    const answer = runner.calls.at(-1)?.result?.stdout ?? ''
    expect(answer).toContain('"part": "check"')
    expect(answer).not.toContain('"part": "preflight"')
  })
})
