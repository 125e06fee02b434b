/**
 * A run killed (SIGKILL) while it verifies leaves IIS serving a release that never passed verify. The bundled action
 * deploys examples/hello with the appcmd double and the IIS stand-in; the later runs must not trust that release.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createIisSandbox, type IisSandbox } from './support/iis-sandbox.js'
import { actionEnv, DIST_INDEX as DIST, EXAMPLE_APP as EXAMPLE, exampleVariant, runAction, type ActionRun } from './support/run-action.js'
import { startIisStandin, type IisStandin } from './support/iis-standin.mjs'
import { buildWheelhouse, SYSTEM_PYTHON } from './support/wheelhouse.js'

let work: string
let sandbox: IisSandbox
let standin: IisStandin
let wheelhouse: string
let deployRoot: string
const APP = '/app'

function inputsFor(releaseId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    mode: 'deploy',
    'app-dir': EXAMPLE,
    'deploy-root': deployRoot,
    'app-path': APP,
    'release-id': releaseId,
    python: SYSTEM_PYTHON,
    'venv-system-site-packages': 'true',
    'pip-args': `--no-index --find-links ${wheelhouse}`,
    env: 'DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost',
    appcmd: 'appcmd',
    icacls: 'icacls',
    'verify-url': `${standin.url}${APP}/`,
    'verify-body': 'Hello from Django',
    'verify-timeout': '4',
    // Killed during verify after the switch: the check before the switch would stop a broken release earlier.
    'verify-before-switch': 'false',
    'preflight-path': '/health',
    'output-dir': path.join(work, `output-${releaseId}`),
    'lock-dir': path.join(work, 'server-lock'),
    ...extra
  }
}

const deploy = (inputs: Record<string, string>): Promise<ActionRun> => runAction(inputs, sandbox.env, work)

const releaseDir = (id: string): string => path.join(deployRoot, 'releases', id)
const releaseState = (id: string): { state?: string; liveAt?: string } =>
  JSON.parse(fs.readFileSync(path.join(releaseDir(id), 'release.json'), 'utf8'))

/** The app's root vdir and a /static vdir if any (STATIC_URL static/ needs none: the root vdir serves it). */
function served(): { root?: string; statics?: string } {
  const app = /<application path="\/app"[^>]*>([\s\S]*?)<\/application>/.exec(sandbox.readConfig())?.[1] ?? ''
  return {
    root: /<virtualDirectory path="\/" physicalPath="([^"]*)"/.exec(app)?.[1],
    statics: /<virtualDirectory path="\/static" physicalPath="([^"]*)"/.exec(app)?.[1]
  }
}

async function page(): Promise<{ status: number; body: string }> {
  const res = await fetch(`${standin.url}${APP}/`)
  return { status: res.status, body: await res.text() }
}

/**
 * Runs the bundled action as runAction does and kills it with SIGKILL once IIS serves `releaseId` and the stand-in
 * has started a worker on it (verify is under way): what a cancelled job or a rebooted runner leaves.
 */
async function killDuringVerify(inputs: Record<string, string>, releaseId: string): Promise<void> {
  const files = fs.mkdtempSync(path.join(os.tmpdir(), 'killed-run-'))
  const env = actionEnv(inputs, {
    GITHUB_OUTPUT: path.join(files, 'output'),
    GITHUB_STEP_SUMMARY: path.join(files, 'summary.md'),
    RUNNER_TEMP: files,
    ...sandbox.env
  })
  const child = spawn(process.execPath, [DIST], { env, cwd: work, stdio: 'ignore' })
  const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, signal) => resolve(signal)))
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline && child.exitCode === null) {
    if (served().root === releaseDir(releaseId) && standin.backend()?.physicalPath === releaseDir(releaseId)) break
    await new Promise(r => setTimeout(r, 10))
  }
  child.kill('SIGKILL')
  expect(await exited, 'the run ended before it could be killed during verify').toBe('SIGKILL')
  fs.rmSync(files, { recursive: true, force: true })
}

const broken = (name: string, why: string): string =>
  exampleVariant(work, name, 'hello/urls.py', t =>
    t.replace("return HttpResponse('Hello from Django'", `raise RuntimeError('${why}')\n    return HttpResponse('Hello from Django'`)
  )

beforeAll(async () => {
  expect(fs.existsSync(DIST), 'dist/index.js is missing: run npm run bundle').toBe(true)
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'interrupted-verify-'))
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

describe.sequential('a run killed during verify', () => {
  it('leaves its release unverified; the next run recovers first, then deploys it again and marks it live only after verify', async () => {
    expect((await deploy(inputsFor('g1'))).exitCode).toBe(0)
    const g2 = exampleVariant(work, 'good-2', 'hello/urls.py', t => `${t}\n# a second good commit\n`)
    await killDuringVerify(inputsFor('g2', { 'app-dir': g2, 'verify-timeout': '20' }), 'g2')
    expect(served().root).toBe(releaseDir('g2'))
    expect(releaseState('g2')).toMatchObject({ state: 'staged' })
    expect(releaseState('g2').liveAt).toBeUndefined()

    const r = await deploy(inputsFor('g2-rerun', { 'app-dir': g2 }))
    expect(r.exitCode).toBe(0)
    // The run journal names the interrupted run: it is undone before anything else (docs/iis-apply.md).
    expect(r.stdout).toMatch(
      /An earlier run of release g2 \(started \S+\) stopped during verify; bringing Default Web Site\/app back to release g1, the last verified one/
    )
    expect(r.stdout).toContain('Recovered the interrupted run of release g2')
    expect(r.stdout).toContain('Release g2 is live at')
    expect(r.stdout).not.toContain('already live and verified')
    expect(r.summary).toContain('**Recovered:** Recovered the interrupted run of release g2')
    expect(releaseState('g2')).toMatchObject({ state: 'live' })
    expect(releaseState('g1').state).toBe('staged')
  })

  it('a broken release killed during verify: each re-run of its commit fails verify and restores the last verified release', async () => {
    const b = broken('broken-1', 'index is broken in this commit')
    await killDuringVerify(inputsFor('b1', { 'app-dir': b, 'verify-timeout': '20' }), 'b1')
    expect(served()).toEqual({ root: releaseDir('b1'), statics: undefined })
    expect((await page()).status).toBe(500)

    for (const rerun of ['b1-rerun-1', 'b1-rerun-2']) {
      const r = await deploy(inputsFor(rerun, { 'app-dir': b }))
      expect(r.exitCode).not.toBe(0)
      expect(r.outputs['rolled-back']).toBe('true')
      expect(r.outputs.release).toBe('b1')
      // The last verified release serves again, its static files included, and the stand-in runs it.
      expect(served()).toEqual({ root: releaseDir('g2'), statics: undefined })
      expect(await page()).toMatchObject({ status: 200, body: 'Hello from Django' })
      expect(standin.backend()?.physicalPath).toBe(releaseDir('g2'))
      expect(r.summary).toMatch(/#### Verify of the restored release\n[\s\S]*✅ passed/)
      expect(r.errors.join('\n')).not.toContain('nothing needed restoring')
      expect(releaseState('b1').state).toBe('failed')
      expect(releaseState('g2').state).toBe('live')
      // Only the first re-run finds the interrupted run's journal; it recovers before staging.
      expect(r.stdout.includes('Recovered the interrupted run of release b1')).toBe(rerun === 'b1-rerun-1')
    }
  })

  it('a new broken release deployed after an interrupted one rolls back to the last verified release, not to it', async () => {
    await killDuringVerify(inputsFor('b1-again', { 'app-dir': path.join(work, 'broken-1'), 'verify-timeout': '20' }), 'b1')
    expect(served().root).toBe(releaseDir('b1'))
    const b3 = broken('broken-3', 'another broken commit')
    const r = await deploy(inputsFor('b3', { 'app-dir': b3 }))
    expect(r.exitCode).not.toBe(0)
    expect(r.outputs['rolled-back']).toBe('true')
    expect(r.stdout).toContain('Recovered the interrupted run of release b1')
    expect(served()).toEqual({ root: releaseDir('g2'), statics: undefined })
    expect(await page()).toMatchObject({ status: 200, body: 'Hello from Django' })
    expect(releaseState('b3').state).toBe('failed')
  })
})
