/**
 * How many appcmd calls a one-file code change makes, reads included (issue 13: at most 5). A code change keeps the
 * venv and the settings: the pool and site reads, the backup, the switch and the recycle are all it needs; the
 * static files move with the switch (release/static) and the FastCGI registration is the one the record names.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LOCATION_RECORD_FILE } from '../src/iis/location-record.js'
import type { DesiredState } from '../src/plan/types.js'
import { apply, configFor, createTarget, SECRET, stage, type Target } from './support/apply-fixture.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

const FASTCGI_READ = 'list config -section:system.webServer/fastCgi /xml'

/** The appcmd calls the deploy made, as their argv, in order. */
function appcmdCalls(t: Target): string[] {
  return t.runner.calls.filter(call => path.basename(call.file).startsWith('appcmd')).map(call => call.args.join(' '))
}

/** The FastCGI applications registered in the double's applicationHost.config. */
const registrations = (t: Target): number => (t.sandbox.readConfig().match(/<application fullPath=/g) ?? []).length

/** Removes every FastCGI registration by hand, as an administrator might: drift the record cannot see. */
async function dropRegistrationByHand(t: Target, desired: DesiredState): Promise<void> {
  const { fullPath, arguments: args } = desired.fastCgi!
  const argv = ['set', 'config', '-section:system.webServer/fastCgi', `/-[fullPath='${fullPath}',arguments='${args}']`, '/commit:apphost']
  const result = await t.runner.run(t.sandbox.appcmdPath, argv)
  expect(result.exitCode).toBe(0)
}

describe('appcmd calls of a code change', () => {
  it('first deploy, then a one-file code change with the same venv: 5 calls (7 before)', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1))
    target.runner.reset()
    const c2 = configFor(target, 'r2')
    await apply(target, c2, stage(target, c2))
    const calls = appcmdCalls(target)
    console.log(`code change: ${calls.length} appcmd calls\n  ${calls.join('\n  ')}`)
    expect(calls.map(c => c.split(' ').slice(0, 2).join(' '))).toEqual([
      'list apppool',
      'list site',
      'add backup',
      'set vdir',
      'recycle apppool'
    ])
    expect(calls.length).toBeLessThanOrEqual(5)
    // The record stands for the registration without holding its variables' values.
    expect(fs.readFileSync(path.join(c2.deployRoot, LOCATION_RECORD_FILE), 'utf8')).not.toContain(SECRET)
  }, 300_000)

  it('a new venv or new variables read the fastCgi section, and the registration follows', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1, 'venv1'))
    target.runner.reset()
    const c2 = configFor(target, 'r2', { env: 'GREETING=bonjour' })
    const result = await apply(target, c2, stage(target, c2, 'venv1'))
    expect(appcmdCalls(target)).toContain(FASTCGI_READ)
    expect(result.operations.some(op => op.argv.join(' ').includes('GREETING'))).toBe(true)
    target.runner.reset()
    const c3 = configFor(target, 'r3', { env: 'GREETING=bonjour' })
    await apply(target, c3, stage(target, c3, 'venv2'))
    expect(appcmdCalls(target)).toContain(FASTCGI_READ)
    expect(registrations(target)).toBe(1)
  }, 300_000)

  it('a re-run of a reused release reads the section and repairs a registration removed by hand', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    const d1 = stage(target, c1)
    await apply(target, c1, d1)
    await dropRegistrationByHand(target, d1)
    expect(registrations(target)).toBe(0)
    target.runner.reset()
    await apply(target, c1, d1, { releaseReused: true })
    expect(appcmdCalls(target)).toContain(FASTCGI_READ)
    expect(registrations(target)).toBe(1)
  }, 300_000)

  it('after a rollback the next code change reads the section again, so drift that failed verify is repaired', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    const d1 = stage(target, c1)
    await apply(target, c1, d1)
    await dropRegistrationByHand(target, d1)
    // The code change trusts the record (its verify would fail: IIS answers 500 without the registration) ...
    const c2 = configFor(target, 'r2')
    const failed = await apply(target, c2, stage(target, c2))
    expect(registrations(target)).toBe(0)
    expect(await failed.rollback()).toMatchObject({ ok: true })
    // ... and its rollback leaves the record without the registration: the next run reads and registers it.
    target.runner.reset()
    const c3 = configFor(target, 'r3')
    await apply(target, c3, stage(target, c3))
    expect(appcmdCalls(target)).toContain(FASTCGI_READ)
    expect(registrations(target)).toBe(1)
  }, 300_000)
})
