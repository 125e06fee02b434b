/**
 * The plan is what a deploy runs: for each scenario, the mutating calls a deploy makes (appcmd writes and icacls
 * grants, recorded by the runner over the doubles) are exactly the IIS steps of the plan built beforehand from
 * the same state, in the same order.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DeployConfig } from '../src/config.js'
import { iisSteps, type DeployPlan } from '../src/plan/build.js'
import type { DesiredState } from '../src/plan/types.js'
import { apply, configFor, createTarget, planFor, stage, type Target } from './support/apply-fixture.js'
import { sandboxRunner } from './support/iis-sandbox.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

const READS = new Set(['list'])
/** A backup's name ends in the time it was taken: the plan's and the deploy's differ only there. */
const withoutStamp = (line: string): string => line.replace(/-\d{8}T\d{9}Z$/, '-<stamp>')

/** The plan's steps that change the server, as `<tool> <argv>`. */
function plannedWrites(plan: DeployPlan): string[] {
  return iisSteps(plan)
    .filter(step => step.mutates)
    .map(step => withoutStamp(`${step.tool} ${step.argv.join(' ')}`))
}

/** The calls the deploy made that change the server, as `<tool> <argv>`, in order. */
function madeWrites(t: Target): string[] {
  return t.runner.calls
    .map(call => ({ tool: path.basename(call.file), argv: call.args }))
    .filter(call => call.tool === 'icacls' || !READS.has(call.argv[0] ?? ''))
    .map(call => withoutStamp(`${call.tool} ${call.argv.join(' ')}`))
}

/** Plans against the server as it is, deploys, and returns both lists of writes. */
async function planThenDeploy(t: Target, config: DeployConfig, desired: DesiredState): Promise<{ planned: string[]; made: string[] }> {
  const plan = await planFor(t, config, desired)
  t.runner.reset()
  await apply(t, config, desired)
  return { planned: plannedWrites(plan), made: madeWrites(t) }
}

/** As on a server: appcmd in inetsrv beside its backups folder (docs/windows-facts.md, ac-backup-folder). */
function appcmdBesideBackups(t: Target): string {
  const appcmd = path.join(path.dirname(t.sandbox.backupsDir), 'appcmd')
  fs.mkdirSync(path.dirname(appcmd), { recursive: true })
  fs.symlinkSync(t.sandbox.appcmdPath, appcmd)
  return appcmd
}

/** Deploys r1 on venv1, r2 on venv2 and so on, each with the same extra inputs. */
async function deployInTurn(t: Target, inputs: Record<string, string>, ids: readonly string[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    const c = configFor(t, id, inputs)
    await apply(t, c, stage(t, c, `venv${i + 1}`))
  }
}

describe('a deploy makes exactly the writes its plan lists, in order', () => {
  it('first deploy', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    const { planned, made } = await planThenDeploy(target, config, stage(target, config))
    expect(planned[0]).toBe('appcmd add backup django-iis-deploy-r1-<stamp>')
    expect(planned.some(line => line.startsWith('icacls '))).toBe(true)
    expect(planned.at(-1)).toBe('appcmd recycle apppool /apppool.name:DefaultWebSite-app')
    expect(made).toEqual(planned)
  }, 300_000)

  it('prunes old backups as steps of the plan once the record names them', async () => {
    target = createTarget()
    const keep = { 'keep-backups': '1' }
    await deployInTurn(target, keep, ['r1', 'r2'])
    const c3 = configFor(target, 'r3', keep)
    target.sandbox.resetCounters()
    const { planned, made } = await planThenDeploy(target, c3, stage(target, c3, 'venv3'))
    // r1's backup went with r2's deploy; r2's goes now, as a step written in the plan, not found by a listing.
    expect(planned.at(-1)).toBe('appcmd delete backup django-iis-deploy-r2-<stamp>')
    expect(made).toEqual(planned)
    expect(target.sandbox.calls().filter(call => call.argv.join(' ').startsWith('list backups'))).toEqual([])
  }, 300_000)

  it('deletes old backups as the folders IIS keeps them in, with no appcmd call, when appcmd sits beside them', async () => {
    target = createTarget()
    const keep = { 'keep-backups': '1', appcmd: appcmdBesideBackups(target) }
    await deployInTurn(target, keep, ['r1', 'r2'])
    const c3 = configFor(target, 'r3', keep)
    const plan = await planFor(target, c3, stage(target, c3, 'venv3'))
    const last = iisSteps(plan).at(-1)
    expect(last?.tool).toBe('file')
    expect(withoutStamp(last?.argv.join(' ') ?? '')).toBe(`delete ${path.join(target.sandbox.backupsDir, 'django-iis-deploy-r2')}-<stamp>`)
    target.runner.reset()
    target.sandbox.resetCounters()
    await apply(target, c3, stage(target, c3, 'venv3'))
    expect(madeWrites(target)).toEqual(plannedWrites(plan).filter(line => !line.startsWith('file ')))
    expect(target.sandbox.calls().map(call => call.argv.slice(0, 2).join(' '))).not.toContain('delete backup')
    // The double lists what is on disk, as IIS does: only this run's backup is left, and the record says so.
    const backups = await sandboxRunner(target.sandbox).run(target.sandbox.appcmdPath, ['list', 'backups'], {})
    expect(backups.stdout.trim().replace(/-\d{8}T\d{9}Z/, '-<stamp>')).toBe('BACKUP "django-iis-deploy-r3-<stamp>"')
    expect(
      (JSON.parse(fs.readFileSync(path.join(target.lockDir, 'backups.json'), 'utf8')) as { ours: string[] }).ours.map(withoutStamp)
    ).toEqual(['django-iis-deploy-r3-<stamp>'])
  }, 300_000)

  it('warns and leaves the record to a later listing when an old backup folder cannot be deleted', async () => {
    target = createTarget()
    const keep = { 'keep-backups': '1', appcmd: appcmdBesideBackups(target) }
    await deployInTurn(target, keep, ['r1'])
    const c2 = configFor(target, 'r2', keep)
    let folder = ''
    // Between the plan and the delete, the folder stops being a backup (someone emptied it): it must be left alone.
    const observer = {
      beforeStep: (step: { tool: string; argv: string[] }) => {
        if (step.tool !== 'file') return
        folder = step.argv[1] ?? ''
        fs.rmSync(path.join(folder, 'applicationHost.config'))
        fs.writeFileSync(path.join(folder, 'notes.txt'), 'not a backup now')
      }
    }
    await apply(target, c2, stage(target, c2, 'venv2'), { observer })
    expect(folder).toMatch(/django-iis-deploy-r1-\d{8}T\d{9}Z$/)
    expect(fs.readFileSync(path.join(folder, 'notes.txt'), 'utf8')).toBe('not a backup now')
    expect(target.log.lines.filter(line => line.startsWith('warning: '))).toEqual([
      expect.stringMatching(
        /our backups beyond the newest 1 are deleted: .* is not an IIS backup of ours \(an applicationHost\.config in a folder of backups\); left as it is$/
      )
    ])
    // Unsure what is left, the next run lists the backups instead of trusting the record.
    expect(fs.existsSync(path.join(target.lockDir, 'backups.json'))).toBe(false)
  }, 300_000)

  it('upgrade to a new release, venv and variables', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1, 'venv1'))
    const c2 = configFor(target, 'r2', { env: 'GREETING=bonjour' })
    const { planned, made } = await planThenDeploy(target, c2, stage(target, c2, 'venv2'))
    expect(planned).toContain(`appcmd set vdir Default Web Site/app/ /physicalPath:${path.join(c2.deployRoot, 'releases', 'r2')}`)
    expect(made).toEqual(planned)
  }, 300_000)

  it('a code change only: the switch and the recycle (release/static moves with the switch)', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1))
    const c2 = configFor(target, 'r2')
    const { planned, made } = await planThenDeploy(target, c2, stage(target, c2))
    expect(planned.filter(line => line.startsWith('appcmd')).map(line => line.split(' ').slice(1, 3).join(' '))).toEqual([
      'add backup',
      'set vdir',
      'recycle apppool'
    ])
    expect(made).toEqual(planned)
  }, 300_000)

  it('a code change with STATIC_URL outside release/static: the switch, the static vdir and the recycle', async () => {
    target = createTarget()
    const assets = { staticUrl: '/app/assets/', forceScriptName: null }
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1, 'venv1', assets))
    const c2 = configFor(target, 'r2')
    const { planned, made } = await planThenDeploy(target, c2, stage(target, c2, 'venv1', assets))
    expect(planned.filter(line => line.startsWith('appcmd')).map(line => line.split(' ').slice(1, 4).join(' '))).toEqual([
      'add backup django-iis-deploy-r2-<stamp>',
      'set vdir Default',
      'set vdir Default',
      'recycle apppool /apppool.name:DefaultWebSite-app'
    ])
    expect(planned.find(line => line.includes('Default Web Site/app/assets'))).toMatch(/^appcmd set vdir /)
    expect(made).toEqual(planned)
  }, 300_000)

  it('no-op redeploy: an empty plan and no write', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    await apply(target, config, stage(target, config))
    const { planned, made } = await planThenDeploy(target, config, stage(target, config))
    expect(planned).toEqual([])
    expect(made).toEqual([])
  }, 300_000)

  it('hosting httpplatform, first deploy and a switch back to fastcgi', async () => {
    target = createTarget()
    const hp = configFor(target, 'r1', { hosting: 'httpplatform' })
    const first = await planThenDeploy(target, hp, stage(target, hp))
    expect(first.planned.some(line => line.includes('-section:system.webServer/httpPlatform'))).toBe(true)
    expect(first.made).toEqual(first.planned)
    const back = configFor(target, 'r2')
    const second = await planThenDeploy(target, back, stage(target, back))
    expect(second.planned.some(line => line.includes('-section:system.webServer/fastCgi'))).toBe(true)
    expect(second.made).toEqual(second.planned)
  }, 300_000)
})
