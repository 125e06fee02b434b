import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DeployConfig } from '../src/config.js'
import { applyPlan } from '../src/iis/apply.js'
import { startJournal } from '../src/journal/deploy-journal.js'
import { recoverUnfinishedRun } from '../src/journal/recover.js'
import { journalFileFor, readJournal } from '../src/journal/store.js'
import { layoutFor } from '../src/layout.js'
import { markRelease, readRelease, writeRelease } from '../src/releases.js'
import { configFor, createTarget, planFor, SECRET, stage, type Target } from './support/apply-fixture.js'
import { captureLog } from './support/iis-test-log.js'
import { runDouble } from './support/run-double.js'
import { historyFileFor } from '../src/history/store.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

const POOL = 'DefaultWebSite-app'
const ROTATED = 'rotated-Secret-9'

/** Apply with the journal, as deployMode does; `verified` also marks the release live and closes the journal. */
async function deploy(t: Target, config: DeployConfig, verified: boolean, venvHash = `venv-${config.releaseId}`): Promise<void> {
  const layout = layoutFor(config.deployRoot)
  const desired = stage(t, config, venvHash)
  writeRelease(layout, {
    id: config.releaseId,
    createdAt: new Date().toISOString(),
    venvHash,
    target: { site: 'Default Web Site', appPath: '/app' }
  })
  const plan = await planFor(t, config, desired)
  const journal = startJournal(layout, plan, config.releaseId)
  await applyPlan({ runner: t.runner, log: t.log, appcmdPath: t.sandbox.appcmdPath, icaclsPath: t.sandbox.icaclsPath }, plan, journal)
  journal?.applied()
  if (!verified) return
  markRelease(layout, config.releaseId, 'live')
  journal?.close()
}

async function recover(t: Target, config: DeployConfig) {
  const log = captureLog()
  const recovery = await recoverUnfinishedRun({
    runner: t.runner,
    log,
    appcmdPath: t.sandbox.appcmdPath,
    icaclsPath: t.sandbox.icaclsPath,
    deployRoot: config.deployRoot,
    target: { site: config.siteName, appPath: config.appPath }
  })
  return { recovery, text: log.lines.join('\n') }
}

const journalOf = (config: DeployConfig): string => journalFileFor(config.deployRoot, { site: config.siteName, appPath: config.appPath })

describe('the run journal', () => {
  it('records the plan, each step and the state before, with no secret value, old or new', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await deploy(target, c1, true)
    expect(fs.existsSync(journalOf(c1))).toBe(false)
    const c2 = configFor(target, 'r2', { 'secret-env': `API_TOKEN=${ROTATED}`, env: 'GREETING=hi' })
    await deploy(target, c2, false)
    const text = fs.readFileSync(journalOf(c2), 'utf8')
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain(ROTATED)
    const read = readJournal(journalOf(c2))
    if (read.kind !== 'journal') throw new Error(`no journal: ${read.kind}`)
    const j = read.journal
    expect(j).toMatchObject({ releaseId: 'r2', state: 'applied', lastVerifiedRelease: 'r1', releaseVerifiedBefore: false })
    expect(j.previousPhysicalPath).toBe(layoutFor(c2.deployRoot).releaseDir('r1'))
    expect(j.backupName).toMatch(/^django-iis-deploy-r2-/)
    expect(j.maskedNames).toEqual(['API_TOKEN'])
    expect(j.steps.length).toBeGreaterThan(3)
    expect(j.steps.every(s => s.status === 'done')).toBe(true)
    expect(j.steps.map(s => s.phase)).toContain('switch')
    expect(j.steps.some(s => s.argv.some(a => a.includes('***')))).toBe(true)
  })
})

describe('recovery of a run stopped during verify', () => {
  it("undoes the run's steps by their inverses and names, but keeps, a change someone else made", async () => {
    target = createTarget()
    const t = target
    const c1 = configFor(t, 'r1')
    await deploy(t, c1, true, 'venv1')
    // The same venv (so the same FastCGI registration), one variable changed.
    const c2 = configFor(t, 'r2', { env: 'GREETING=hi\nFEATURE_X=on' })
    await deploy(t, c2, false, 'venv1')
    // Someone else, while the run was in verify: another team's pool, and a setting of our pool the run did not write.
    for (const argv of [
      ['add', 'apppool', '/name:OtherTeamPool'],
      ['set', 'apppool', `/apppool.name:${POOL}`, '/managedRuntimeVersion:v4.0']
    ])
      expect((await runDouble(t.sandbox.appcmdPath, argv, t.sandbox.env)).exitCode).toBe(0)
    const { recovery, text } = await recover(t, c2)
    expect(recovery).toMatchObject({ ok: true, releaseId: 'r2', foreign: [`app pool ${POOL} was changed`] })
    expect(text).toContain(`someone else changed IIS: app pool ${POOL} was changed; left as it is`)
    expect(text).toMatch(/undone one by one \(\d+ operations\)/)
    expect(t.sandbox.mutatingCalls().some(c => c.argv[0] === 'restore')).toBe(false)
    const xml = t.sandbox.readConfig()
    expect(xml).toContain('<add name="OtherTeamPool"')
    expect(xml).toContain('managedRuntimeVersion="v4.0"')
    expect(xml).toContain(`physicalPath="${layoutFor(c2.deployRoot).releaseDir('r1')}"`)
    expect(xml).not.toContain(layoutFor(c2.deployRoot).releaseDir('r2'))
    expect(readRelease(layoutFor(c2.deployRoot), 'r2')?.state).toBe('failed')
    expect(fs.existsSync(journalOf(c2))).toBe(false)
    const history = fs.readFileSync(historyFileFor(c2.deployRoot, { site: c2.siteName, appPath: c2.appPath }), 'utf8')
    expect(history).toMatch(/"mode":"recover".*"releaseId":"r2".*"outcome":"failed-rolled-back".*"live":"r1"/)
    // Nothing left: the next run finds no journal.
    expect((await recover(t, c2)).recovery).toBeUndefined()
  })

  it('restores the backup when an inverse needs a secret it did not record, and says whose changes that reverts', async () => {
    target = createTarget()
    const t = target
    const c1 = configFor(t, 'r1')
    await deploy(t, c1, true)
    const afterFirst = t.sandbox.readConfig()
    const c2 = configFor(t, 'r2', { 'secret-env': `API_TOKEN=${ROTATED}` })
    await deploy(t, c2, false)
    expect(
      (await runDouble(t.sandbox.appcmdPath, ['set', 'apppool', `/apppool.name:${POOL}`, '/managedRuntimeVersion:v4.0'], t.sandbox.env))
        .exitCode
    ).toBe(0)
    const { recovery, text } = await recover(t, c2)
    expect(recovery?.ok).toBe(true)
    expect(text).toMatch(
      new RegExp(
        `restoring its backup django-iis-deploy-r2-\\S+; this also reverts changes made by others since then: app pool ${POOL} was changed`
      )
    )
    expect(t.sandbox.readConfig()).toBe(afterFirst)
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain(ROTATED)
  })

  it("removes a killed journal write's temp file, with the journal or when there is none, and nothing of another target's", async () => {
    target = createTarget()
    const t = target
    const c1 = configFor(t, 'r1')
    await deploy(t, c1, true, 'venv1')
    await deploy(t, configFor(t, 'r2'), false, 'venv1')
    const file = journalOf(c1)
    const dir = path.dirname(file)
    // What writeFileAtomic leaves when the process dies between opening its temp file and the rename.
    const killedWrite = path.join(dir, `.${path.basename(file)}.4242.1764800000000.tmp`)
    fs.writeFileSync(killedWrite, '{"version":1,"tar')
    const other = journalFileFor(c1.deployRoot, { site: c1.siteName, appPath: '/other' })
    const othersWrite = path.join(dir, `.${path.basename(other)}.4243.1764800000001.tmp`)
    fs.writeFileSync(other, '{}')
    fs.writeFileSync(othersWrite, '{')
    const { recovery } = await recover(t, configFor(t, 'r2'))
    expect(recovery?.ok).toBe(true)
    expect(fs.readdirSync(dir).sort()).toEqual([path.basename(othersWrite), path.basename(other)].sort())
    // Killed in its first write, before the journal existed: the next run finds none, and removes that write's file.
    fs.writeFileSync(killedWrite, '{')
    expect((await recover(t, configFor(t, 'r2'))).recovery).toBeUndefined()
    expect(fs.existsSync(killedWrite)).toBe(false)
  })

  it('leaves a run whose verify passed as it is', async () => {
    target = createTarget()
    const t = target
    const c1 = configFor(t, 'r1')
    await deploy(t, c1, false)
    markRelease(layoutFor(c1.deployRoot), 'r1', 'live')
    const before = t.sandbox.readConfig()
    const { recovery, text } = await recover(t, c1)
    expect(recovery).toBeUndefined()
    expect(text).toContain('stopped after its verify passed: nothing to recover')
    expect(t.sandbox.readConfig()).toBe(before)
    expect(fs.existsSync(journalOf(c1))).toBe(false)
  })
})
