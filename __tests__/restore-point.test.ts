/**
 * The restore point beside the release check (issue 13, src/iis/restore-point.ts): a new release's backup is taken
 * while Python checks it, the plan names that backup first and apply takes it over; a run that stops before apply
 * deletes it, and a target the IIS read refuses gets none.
 */
import { describe, expect, it } from 'vitest'
import { backupsOf, sandboxRunner } from './support/iis-sandbox.js'
import type { Deployed } from './support/migrate-deploy.js'
import { serverPerTest } from './support/server-per-test.js'

const MIGRATED = { migrate: 'true', 'verify-body': 'notes: 0' }
const BROKEN_URLS = { 'site_conf/urls.py': "raise RuntimeError('urls refuse on purpose')\n" }

const backupCalls = (run: Deployed, verb: 'add' | 'delete') => run.calls.filter(c => c.args.at(-3) === verb && c.args.at(-2) === 'backup')
const isReleaseCheck = (command: string) => command.endsWith('release_checks.py')

const newServer = serverPerTest('restore-point').start

describe('the restore point beside the release check', () => {
  it('is taken while Python checks a new release, named first by the plan, and kept by apply', async () => {
    const s = await newServer()
    expect((await s.deploy(s.project('v1'), 'r1', MIGRATED)).failures).toEqual([])
    const change = await s.deploy(s.project('v2', ['add-tag']), 'r2', MIGRATED)
    expect(change.failures).toEqual([])
    const added = backupCalls(change, 'add')
    expect(added).toHaveLength(1)
    expect(added[0]?.runningAtStart.some(isReleaseCheck)).toBe(true)
    const name = added[0]?.args.at(-1) ?? ''
    const backupSteps = (change.plan?.operations ?? []).filter(step => step.phase === 'backup')
    expect(backupSteps).toMatchObject([
      { argv: ['add', 'backup', name], why: expect.stringContaining('taken while the release was checked') }
    ])
    expect(change.plan?.operations?.[0]?.phase).toBe('backup')
    expect(backupCalls(change, 'delete')).toEqual([])
    expect(backupsOf(s.sandbox)).toContain(name)
    expect(change.log.lines.some(l => l.includes(`appcmd add backup ${name} → exit 0`))).toBe(true)
  })

  it('is deleted when the release check fails, leaving IIS as it was', async () => {
    const s = await newServer()
    expect((await s.deploy(s.project('v1'), 'r1', MIGRATED)).failures).toEqual([])
    const before = { config: s.sandbox.readConfig(), backups: backupsOf(s.sandbox) }
    s.sandbox.resetCounters()
    const run = await s.deploy(s.project('broken', [], BROKEN_URLS), 'r2', MIGRATED)
    expect(run.failures.join('\n')).toContain('urls refuse on purpose')
    const name = backupCalls(run, 'add')[0]?.args.at(-1)
    expect(name).toBeDefined()
    expect(backupCalls(run, 'delete').map(c => c.args.at(-1))).toEqual([name])
    expect(s.sandbox.changingCalls()).toEqual([])
    expect({ config: s.sandbox.readConfig(), backups: backupsOf(s.sandbox) }).toEqual(before)
    expect(run.log.lines).toContain(`info: Deleted IIS backup ${name}: this run made no IIS change for it to restore`)
    expect(s.live()).toBe('r1')
  })

  it('is never taken for a target the IIS read refuses', async () => {
    const s = await newServer()
    expect((await s.deploy(s.project('v1'), 'r1', MIGRATED)).failures).toEqual([])
    await sandboxRunner(s.sandbox).run(s.sandbox.appcmdPath, ['delete', 'site', 'Default Web Site'])
    const run = await s.deploy(s.project('v2', ['add-tag']), 'r2', MIGRATED)
    expect(run.failures.join('\n')).toContain("IIS has no site named 'Default Web Site'")
    expect(backupCalls(run, 'add')).toEqual([])
  })

  it('is not taken by a no-op', async () => {
    const s = await newServer()
    const project = s.project('v1')
    expect((await s.deploy(project, 'r1', MIGRATED)).failures).toEqual([])
    s.sandbox.resetCounters()
    const noop = await s.deploy(project, 'r2', MIGRATED)
    expect(noop.failures).toEqual([])
    expect(backupCalls(noop, 'add')).toEqual([])
    expect(s.sandbox.mutatingCalls()).toEqual([])
  })
})
