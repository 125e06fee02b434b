/**
 * A run that stops during its SP config change (shibboleth2.xml written, checked by the real shibd -t, the SP
 * restarted through net.exe's double) or during the IIS apply after it: the run journal recorded the change before
 * the file was written, and the next run's recovery puts the prior file back and says so. In process, as
 * crash-recovery.test.ts: at the chosen point the run's next await never settles (kill -9 leaves the same).
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { applyPlan } from '../src/iis/apply.js'
import { recordSpWrite, startJournal } from '../src/journal/deploy-journal.js'
import { recoverUnfinishedRun } from '../src/journal/recover.js'
import { journalFileFor, readJournal } from '../src/journal/store.js'
import { layoutFor } from '../src/layout.js'
import type { ProcessRunner } from '../src/process.js'
import { markRelease, readRelease, writeRelease } from '../src/releases.js'
import { TemplateSet } from '../src/render/templates.js'
import { applyShibboleth } from '../src/shibboleth/apply.js'
import { SP_RECORD_FILE } from '../src/shibboleth/entry-record.js'
import { configFor, createTarget, planFor, stage, type Target } from './support/apply-fixture.js'
import { captureLog } from './support/iis-test-log.js'
import { FIXTURES, SHIBD_CHECK, tempDir } from './support/shibboleth-support.js'

const NEVER = new Promise<never>(() => {})

/** Kill points: after the nth SP call (shibd check, net stop, net start) or mutating appcmd call; 0 = before the first. */
interface Crash {
  after: number
  killed: Promise<void>
  kill(): void
}
function crashAt(after: number): Crash {
  let kill = (): void => undefined
  const killed = new Promise<void>(resolve => (kill = resolve))
  return { after, killed, kill }
}

function killingRunner(inner: ProcessRunner, crash: Crash | undefined, calls: string[]): ProcessRunner {
  return {
    async run(file, args, options) {
      const hooked = /shibd|net$/.test(file) || (/appcmd/.test(file) && args[0] !== 'list')
      if (hooked && crash?.after === 0 && calls.length === 0) {
        crash.kill()
        return NEVER
      }
      const result = await inner.run(file, args, options)
      if (hooked) calls.push(`${path.basename(file)} ${args.join(' ')}`)
      if (hooked && crash && calls.length === crash.after) {
        crash.kill()
        return NEVER
      }
      return result
    }
  }
}

interface Sp {
  dir: string
  configPath: string
  net: string
  netCalls(): string[]
}

function spFolder(original: string | undefined): Sp {
  const dir = tempDir('sp-crash-')
  const configPath = path.join(dir, 'shibboleth2.xml')
  if (original !== undefined) fs.copyFileSync(original, configPath)
  const net = path.join(dir, 'net')
  fs.copyFileSync(path.join(FIXTURES, 'net-double.sh'), net)
  fs.chmodSync(net, 0o755)
  const log = path.join(dir, 'net-calls.log')
  return { dir, configPath, net, netCalls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []) }
}

/** The SP step and then apply, as the deploy flow runs them around the journal, stopped at `crash`. */
async function deploy(t: Target, sp: Sp, crash: Crash | undefined, calls: string[] = []): Promise<void> {
  const config = configFor(t, 'r1', {
    shibboleth: 'true',
    'shibboleth-config': sp.configPath,
    'shibboleth-host': 'www.example.edu',
    'shibboleth-check': SHIBD_CHECK.join(' ')
  })
  const layout = layoutFor(config.deployRoot)
  const desired = stage(t, config)
  writeRelease(layout, {
    id: 'r1',
    createdAt: new Date().toISOString(),
    venvHash: 'venv1',
    target: { site: config.siteName, appPath: config.appPath }
  })
  const runner = killingRunner(t.runner, crash, calls)
  const plan = await planFor(t, config, desired, runner)
  let journal: ReturnType<typeof startJournal>
  await applyShibboleth({
    configPath: sp.configPath,
    site: config.siteName,
    want: { siteId: 1, host: 'www.example.edu', appPath: '/app', remoteUser: ['eppn'] },
    check: SHIBD_CHECK,
    service: 'shibd_Default',
    net: sp.net,
    runner,
    log: t.log,
    templates: new TemplateSet(),
    deployRoot: config.deployRoot,
    beforeWrite: recordSpWrite(() => (journal ??= startJournal(layout, plan, 'r1', true)), config.deployRoot)
  })
  journal ??= startJournal(layout, plan, 'r1')
  await applyPlan({ runner, log: t.log, appcmdPath: t.sandbox.appcmdPath, icaclsPath: t.sandbox.icaclsPath }, plan, journal)
  journal?.applied()
  markRelease(layout, 'r1', 'live')
  journal?.close()
}

async function recover(t: Target) {
  const log = captureLog()
  const recovery = await recoverUnfinishedRun({
    runner: t.runner,
    log,
    appcmdPath: t.sandbox.appcmdPath,
    icaclsPath: t.sandbox.icaclsPath,
    deployRoot: t.deployRoot,
    target: { site: 'Default Web Site', appPath: '/app' }
  })
  return { recovery, log }
}

let open: { t: Target; sp: Sp } | undefined
afterEach(() => {
  open?.t.cleanup()
  if (open) fs.rmSync(open.sp.dir, { recursive: true, force: true })
  open = undefined
})

describe.each([
  ['an SP config the server has', path.join(FIXTURES, 'iis-bom-crlf.xml')],
  ['no SP config yet (the run creates it)', undefined]
])('a run killed during its SP change, with %s', (_name, original) => {
  it('is recovered at every SP call and after every IIS write that follows: the prior file is back and the SP restarted', async () => {
    // A clean run: which calls it makes.
    const clean = { t: createTarget(), sp: spFolder(original) }
    const calls: string[] = []
    await deploy(clean.t, clean.sp, undefined, calls)
    clean.t.cleanup()
    expect(calls.slice(0, 3)).toEqual([expect.stringMatching(/^shibd -t -c /), 'net stop shibd_Default', 'net start shibd_Default'])
    expect(calls.length).toBeGreaterThan(8)

    let recovered = 0
    const failures: string[] = []
    for (let after = 0; after <= calls.length; after++) {
      const t = createTarget()
      const sp = spFolder(original)
      open = { t, sp }
      const before = original === undefined ? undefined : fs.readFileSync(sp.configPath)
      const iisBefore = t.sandbox.readConfig()
      const crash = crashAt(after)
      await Promise.race([deploy(t, sp, crash), crash.killed])
      const netBefore = sp.netCalls().length
      const wrote = fs.existsSync(sp.configPath) && !(before && fs.readFileSync(sp.configPath).equals(before))
      const { recovery, log } = await recover(t)
      const now = fs.existsSync(sp.configPath) ? fs.readFileSync(sp.configPath) : undefined
      const problems = [
        !recovery?.ok && `not recovered: ${recovery?.notice ?? 'no journal'}`,
        (before ? !now?.equals(before) : now !== undefined) && 'shibboleth2.xml is not the prior file',
        fs.existsSync(path.join(t.deployRoot, SP_RECORD_FILE)) && 'the SP entry record names an entry the file no longer has',
        wrote &&
          !/shibboleth2\.xml( restored from|, which that run created, removed)/.test(recovery?.notice ?? '') &&
          'the notice does not say the SP config was restored',
        wrote &&
          sp.netCalls().slice(netBefore).join(',') !== 'stop shibd_Default,start shibd_Default' &&
          'the SP was not restarted on the prior file',
        !wrote && sp.netCalls().length > netBefore && 'the SP was restarted although its file never changed',
        t.sandbox.readConfig() !== iisBefore && t.sandbox.readConfig().includes('path="/app"') && 'IIS was not brought back',
        readJournal(journalFileFor(t.deployRoot, { site: 'Default Web Site', appPath: '/app' })).kind !== 'none' &&
          'the journal is left open',
        readRelease(layoutFor(t.deployRoot), 'r1')?.state !== 'failed' && 'the interrupted release is not marked failed'
      ].filter(Boolean)
      if (problems.length === 0) recovered++
      else
        failures.push(
          `killed ${after === 0 ? 'before the first call' : `after ${calls[after - 1]}`}: ${problems.join('; ')}\n${log.lines.join('\n')}`
        )
      t.cleanup()
      fs.rmSync(sp.dir, { recursive: true, force: true })
      open = undefined
    }
    console.log(`${recovered}/${calls.length + 1} SP crash points recover (${original ? 'existing' : 'new'} shibboleth2.xml)`)
    expect(failures).toEqual([])
  }, 600_000)
})

it('a shibboleth2.xml someone else changed after the interrupted run wrote it is named and left as it is', async () => {
  const t = createTarget()
  const sp = spFolder(path.join(FIXTURES, 'iis-bom-crlf.xml'))
  open = { t, sp }
  const crash = crashAt(3)
  await Promise.race([deploy(t, sp, crash), crash.killed])
  fs.appendFileSync(sp.configPath, '<!-- edited by hand -->\n')
  const edited = fs.readFileSync(sp.configPath)
  const { recovery, log } = await recover(t)
  expect(recovery?.ok).toBe(true)
  expect(fs.readFileSync(sp.configPath).equals(edited)).toBe(true)
  expect(recovery?.foreign).toEqual([`${sp.configPath} was changed since the interrupted run wrote it`])
  expect(log.lines.join('\n')).toContain(
    `someone else changed the SP config: ${sp.configPath} was changed since the interrupted run wrote it; left as it is`
  )
})
