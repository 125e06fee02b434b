/**
 * kill -9 crash tests: the bundled action (dist/index.js) deploys examples/hello as a child process, and is killed
 * with SIGKILL at every crash point of a first deploy and of an upgrade: right after each mutating appcmd or icacls
 * call did its write (the double's shim kills its parent, support/kill-hook.mjs), just before the first one (the
 * journal written, nothing applied) and during verify. Each time the next run,
 * a normal deploy of the same inputs, must recover: exit 0, the journal closed (its folder empty), IIS serving a release that passed
 * verify, and applicationHost.config equal to a clean deploy's, with the config it recovered to (the backup its
 * own deploy took) equal to the last successful deploy's.
 *
 * Each crash point restores a snapshot of the server and deploy-root (releases staged once with mode: stage, so a
 * point costs two runs, not a venv build); two points run at a time.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newSlot, releaseDir, releaseState, restore, servedRoot, takeSnapshot, type Slot, type Snapshot } from './support/crash-slot.js'
import { actionEnv, DIST_INDEX, EXAMPLE_APP, exampleVariant, runAction, type ActionRun } from './support/run-action.js'
import { buildWheelhouse, SYSTEM_PYTHON } from './support/wheelhouse.js'

const APP = '/app'
const SECRET = 'kill-test-secret-value'
let work: string
let wheelhouse: string
let upgraded: string

function inputsFor(slot: Slot, releaseId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    mode: 'deploy',
    'app-dir': releaseId === 'r2' ? upgraded : EXAMPLE_APP,
    'deploy-root': slot.deployRoot,
    'app-path': APP,
    'release-id': releaseId,
    python: SYSTEM_PYTHON,
    'venv-system-site-packages': 'true',
    'pip-args': `--no-index --find-links ${wheelhouse}`,
    env: releaseId === 'r2' ? 'DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost\nFEATURE=on' : 'DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost',
    'secret-env': `DJANGO_SECRET_KEY=${SECRET}`,
    appcmd: 'appcmd',
    icacls: 'icacls',
    'verify-url': `${slot.standin.url}${APP}/`,
    'verify-body': 'Hello from Django',
    'verify-timeout': '30',
    'output-dir': path.join(slot.dir, `output-${releaseId}`),
    'lock-dir': path.join(slot.dir, 'server-lock'),
    ...extra
  }
}

async function run(slot: Slot, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction(inputs, { ...slot.sandbox.env, ...env }, slot.dir)
}

/** The `<location>` entries whose path matches `pathPattern` (a regular expression source). */
const locationEntries = (pathPattern: string): RegExp =>
  new RegExp(` *<location path="${pathPattern}"[^>]*>[\\s\\S]*?</location>\\r?\\n`, 'g')

/**
 * The config as IIS would load it: no line-ending or indentation noise, and without the `<location>` entries of an
 * app that does not exist: the handlers unlock has no inverse and stays after the app is gone, harmless without it
 * (docs/windows-facts.md, ac-delete-app-location). The same holds for verify-before-switch's temporary site once it
 * is deleted (ac-delete-site): its entries are rewritten by the next check, never piled up.
 */
function withoutOrphanLocations(xml: string): string {
  let out = xml
  if (!out.includes(`<application path="${APP}"`)) out = out.replace(locationEntries('Default Web Site/app'), '')
  if (!out.includes('<site name="diis-preswitch-')) out = out.replace(locationEntries('diis-preswitch-[^"]*'), '')
  return out
}

const normalised = (xml: string): string =>
  withoutOrphanLocations(xml)
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(Boolean)
    .join('\n')

/** Where a run is killed. */
type CrashPoint = { after: number } | { before: number } | { during: 'verify' }

const labelOf = (p: CrashPoint, calls: string[]): string =>
  'after' in p
    ? `after call ${p.after} (${calls[p.after - 1]})`
    : 'before' in p
      ? `before call ${p.before} (${calls[p.before - 1]})`
      : `during ${p.during}`

/** Runs the action and kills it at `point`; resolves once it died of SIGKILL (or ended, which is a failure). */
async function killedRun(slot: Slot, inputs: Record<string, string>, point: CrashPoint, killLog: string): Promise<string | null> {
  const files = fs.mkdtempSync(path.join(os.tmpdir(), 'killed-run-'))
  const hook: Record<string, string> = { DIIS_TEST_KILL_LOG: killLog }
  if ('after' in point) hook.DIIS_TEST_KILL_AFTER = String(point.after)
  if ('before' in point) hook.DIIS_TEST_KILL_BEFORE = String(point.before)
  const env = actionEnv(inputs, {
    GITHUB_OUTPUT: path.join(files, 'output'),
    GITHUB_STEP_SUMMARY: path.join(files, 'summary.md'),
    RUNNER_TEMP: files,
    ...slot.sandbox.env,
    ...hook
  })
  const child = spawn(process.execPath, [DIST_INDEX], { env, cwd: slot.dir, stdio: 'ignore' })
  const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, signal) => resolve(signal)))
  if ('during' in point) {
    const id = inputs['release-id']
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) break
      // IIS serves the release and the stand-in started its worker: verify's first request is under way.
      if (servedRoot(slot) === releaseDir(slot, id) && slot.standin.backend()?.physicalPath === releaseDir(slot, id)) {
        child.kill('SIGKILL')
        break
      }
      await new Promise(r => setTimeout(r, 5))
    }
  }
  const signal = await exited
  fs.rmSync(files, { recursive: true, force: true })
  return signal
}

interface Scenario {
  name: string
  /** The release the killed run and the recovering run deploy. */
  releaseId: string
  snapshot: Snapshot
  /** applicationHost.config after the last successful deploy before the killed run (none for a first deploy: the seed). */
  lastGood: string
  /** applicationHost.config after a clean deploy of releaseId from the snapshot. */
  clean: string
  /** The kill log of a clean run: the hooked calls, in order. */
  calls: string[]
}

async function prepare(slot: Slot, name: string, releaseId: string, before: () => Promise<void>): Promise<Scenario> {
  await before()
  const staged = await run(slot, inputsFor(slot, releaseId, { mode: 'stage' }))
  expect(staged.exitCode, staged.stdout.slice(-2000)).toBe(0)
  const snapshot = takeSnapshot(slot, releaseId)
  const killLog = path.join(slot.dir, 'calls.log')
  fs.rmSync(killLog, { force: true })
  const clean = await run(slot, inputsFor(slot, releaseId), { DIIS_TEST_KILL_LOG: killLog })
  expect(clean.exitCode, clean.stdout.slice(-3000)).toBe(0)
  const calls = fs.readFileSync(killLog, 'utf8').trim().split('\n')
  const scenario = { name, releaseId, snapshot, lastGood: snapshot.config, clean: slot.sandbox.readConfig(), calls }
  restore(slot, snapshot)
  return scenario
}

/** One crash point: restore, kill, recover; what is wrong, or nothing. */
async function crashAndRecover(slot: Slot, s: Scenario, point: CrashPoint): Promise<string[]> {
  restore(slot, s.snapshot)
  const killLog = path.join(slot.dir, 'kill.log')
  fs.rmSync(killLog, { force: true })
  const inputs = inputsFor(slot, s.releaseId)
  const signal = await killedRun(slot, inputs, point, killLog)
  const problems: string[] = []
  if (signal !== 'SIGKILL') problems.push(`the run was not killed (it ended with ${String(signal)})`)
  const backupsBefore = fs.existsSync(slot.sandbox.backupsDir) ? fs.readdirSync(slot.sandbox.backupsDir) : []
  const next = await run(slot, inputs)
  if (next.exitCode !== 0) problems.push(`the next run failed: ${next.errors.join(' | ')}`)
  const ownBackups = (fs.existsSync(slot.sandbox.backupsDir) ? fs.readdirSync(slot.sandbox.backupsDir) : []).filter(
    b => !backupsBefore.includes(b)
  )
  // The backup the recovering run's deploy took is IIS as recovery left it: the last successful deploy's config.
  const recoveredTo =
    ownBackups.length === 1
      ? fs.readFileSync(path.join(slot.sandbox.backupsDir, ownBackups[0], 'applicationHost.config'), 'utf8')
      : undefined
  if (recoveredTo !== undefined && normalised(recoveredTo) !== normalised(s.lastGood))
    problems.push('the config recovery left is not the last successful deploy')
  if (recoveredTo === undefined && normalised(s.clean) !== normalised(s.lastGood))
    problems.push(`the next run took ${ownBackups.length} backups`)
  if (normalised(slot.sandbox.readConfig()) !== normalised(s.clean)) problems.push('applicationHost.config differs from a clean deploy')
  if (servedRoot(slot) !== releaseDir(slot, s.releaseId)) problems.push(`IIS serves ${servedRoot(slot)}`)
  if (releaseState(slot, s.releaseId) !== 'live') problems.push(`release ${s.releaseId} is ${releaseState(slot, s.releaseId)}, not live`)
  const page = await fetch(`${slot.standin.url}${APP}/`).then(
    async r => `${r.status} ${await r.text()}`,
    (e: Error) => e.message
  )
  if (page !== '200 Hello from Django') problems.push(`the app answers ${page.slice(0, 200)}`)
  // Named, so a temp file of a killed write is told from an open journal.
  const journalDir = path.join(slot.deployRoot, 'journal')
  const left = fs.existsSync(journalDir) ? fs.readdirSync(journalDir) : []
  if (left.length > 0) problems.push(`the journal folder still holds ${left.join(', ')}`)
  const recovered = next.stdout.includes('Recovered the interrupted run')
  if (!recovered) problems.push('the next run did not say it recovered the interrupted run')
  if (recovered && !next.summary.includes('**Recovered:**')) problems.push('the summary does not say what recovery did')
  // Registered for masking on stdout (::add-mask::), and nowhere else.
  const printed = next.stdout
    .split('\n')
    .filter(l => l !== `::add-mask::${SECRET}`)
    .join('\n')
  if (printed.includes(SECRET) || next.summary.includes(SECRET)) problems.push('the secret leaked')
  return problems
}

/** Every crash point of a scenario, the same for each slot's copy of it. */
const pointsOf = (s: Scenario): CrashPoint[] => [{ before: 1 }, ...s.calls.map((_, i) => ({ after: i + 1 })), { during: 'verify' }]

/** Runs the points two at a time, each slot on its own copy of the scenario. */
async function everyPoint(scenarios: Scenario[]): Promise<{ recovered: number; total: number; failures: string[] }> {
  const all = pointsOf(scenarios[0])
  const queue = [...all]
  const failures: string[] = []
  let recovered = 0
  await Promise.all(
    slots.map(async (slot, i) => {
      for (let point = queue.shift(); point; point = queue.shift()) {
        const problems = await crashAndRecover(slot, scenarios[i], point)
        if (problems.length === 0) recovered++
        else failures.push(`${scenarios[i].name}, killed ${labelOf(point, scenarios[i].calls)}: ${problems.join('; ')}`)
      }
    })
  )
  return { recovered, total: all.length, failures }
}

const slots: Slot[] = []

beforeAll(async () => {
  expect(fs.existsSync(DIST_INDEX), 'dist/index.js is missing: run npm run bundle').toBe(true)
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-kill-'))
  wheelhouse = await buildWheelhouse(path.join(work, 'wheelhouse'))
  upgraded = exampleVariant(work, 'upgraded', 'hello/urls.py', t => `${t}\n# the next commit\n`)
  slots.push(await newSlot(work, 'slot-1'), await newSlot(work, 'slot-2'))
}, 300_000)

afterAll(async () => {
  for (const slot of slots) {
    await slot.standin.close()
    slot.sandbox.cleanup()
  }
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

describe.sequential('the action killed with SIGKILL', () => {
  it('recovers at every crash point of a first deploy', async () => {
    const started = Date.now()
    const scenarios = await Promise.all(slots.map(slot => prepare(slot, 'first deploy', 'r1', async () => undefined)))
    expect(scenarios[1].calls.length).toBe(scenarios[0].calls.length)
    const { recovered, total, failures } = await everyPoint(scenarios)
    console.log(`${recovered}/${total} crash points recover (first deploy), ${Math.round((Date.now() - started) / 1000)} s`)
    expect(failures).toEqual([])
    expect(recovered).toBe(total)
    // Every kind of write is among the points: the pool, the grants, the app, the FastCGI registration, the recycle.
    for (const kind of [
      /^appcmd add apppool /,
      /^icacls /,
      /^appcmd add app /,
      /^appcmd set config -section:system.webServer\/fastCgi /,
      /^appcmd recycle /
    ])
      expect(
        scenarios[0].calls.some(c => kind.test(c)),
        String(kind)
      ).toBe(true)
  }, 1_800_000)

  it('recovers at every crash point of an upgrade', async () => {
    const started = Date.now()
    const scenarios = await Promise.all(
      slots.map(slot =>
        prepare(slot, 'upgrade', 'r2', async () => {
          // r1 live and verified: the last successful deploy (a no-op when the test above left it so).
          const r1 = await run(slot, inputsFor(slot, 'r1'))
          expect(r1.exitCode, r1.stdout.slice(-2000)).toBe(0)
        })
      )
    )
    const { recovered, total, failures } = await everyPoint(scenarios)
    console.log(`${recovered}/${total} crash points recover (upgrade), ${Math.round((Date.now() - started) / 1000)} s`)
    expect(failures).toEqual([])
    expect(recovered).toBe(total)
    // The switch to the new release and the new variable are among the points.
    for (const kind of [/^appcmd set vdir /, /environmentVariables\.\[name='FEATURE'/, /^appcmd recycle /])
      expect(
        scenarios[0].calls.some(c => kind.test(c)),
        String(kind)
      ).toBe(true)
  }, 1_800_000)
})
