import { afterEach, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { layoutFor } from '../src/layout.js'
import { failingRunner } from './support/failing-runner.js'
import { apply, configFor, createTarget, stage, type Target } from './support/apply-fixture.js'
import { runDouble } from './support/run-double.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

const POOL = 'DefaultWebSite-app'

/** r1 live, then r2 with a new venv and a rotated secret applied: the state a failed verify rolls back from. */
async function upgraded(t: Target) {
  const c1 = configFor(t, 'r1')
  await apply(t, c1, stage(t, c1, 'venv1'))
  const afterFirst = t.sandbox.readConfig()
  const c2 = configFor(t, 'r2', { 'secret-env': 'API_TOKEN=rotated-Secret-9' })
  const d2 = stage(t, c2, 'venv2')
  const result = await apply(t, c2, d2)
  return { afterFirst, result, c2, d2 }
}

describe('rollback after a failed verify', () => {
  it("undoes this run's writes by their inverses, then recycles the app's pool; no restore backup", async () => {
    target = createTarget()
    const { afterFirst, result } = await upgraded(target)
    target.sandbox.resetCounters()
    const rb = await result.rollback()
    expect(rb).toMatchObject({ ok: true, failed: [] })
    expect(rb.restored).toEqual([
      expect.stringMatching(/^this run's IIS changes, undone one by one \(\d+ operations\)$/),
      `app pool ${POOL} recycled`
    ])
    expect(target.sandbox.readConfig()).toBe(afterFirst)

    const writes = target.sandbox.mutatingCalls().map(c => c.argv)
    expect(writes.some(w => w[0] === 'restore')).toBe(false)
    // The recycle comes after every configuration write, and targets the app's pool.
    expect(writes.at(-1)).toEqual(['recycle', 'apppool', `/apppool.name:${POOL}`])
    expect(writes.filter(w => w[0] === 'recycle')).toHaveLength(1)
    expect(writes.length).toBeGreaterThan(3)
    expect(target.log.lines.join('\n')).not.toContain('rotated-Secret-9')
  }, 600_000)

  it('keeps a pool someone else added while verify ran', async () => {
    target = createTarget()
    const { result } = await upgraded(target)
    expect((await runDouble(target.sandbox.appcmdPath, ['add', 'apppool', '/name:OtherTeamPool'], target.sandbox.env)).exitCode).toBe(0)
    const rb = await result.rollback()
    expect(rb.ok).toBe(true)
    const xml = target.sandbox.readConfig()
    expect(xml).toContain('<add name="OtherTeamPool"')
    expect(xml).toContain(`physicalPath="${layoutFor(target.deployRoot).releaseDir('r1')}"`)
    expect(xml).not.toContain(layoutFor(target.deployRoot).releaseDir('r2'))
  }, 600_000)
})

describe('when an inverse operation fails', () => {
  it('falls back to restore backup, and recycles after the restore', async () => {
    target = createTarget()
    const t = target
    const c1 = configFor(t, 'r1')
    await apply(t, c1, stage(t, c1, 'venv1'))
    const before = t.sandbox.readConfig()
    t.sandbox.resetCounters()
    const c2 = configFor(t, 'r2')
    // The switch fails, and so does the next write, the rollback's first inverse.
    let switchAt = 0
    const runner = failingRunner(t.runner, t.sandbox, (argv, nth) => {
      if (argv[0] === 'set' && argv[1] === 'vdir' && argv[2] === 'Default Web Site/app/') switchAt = nth
      return switchAt > 0 && (nth === switchAt || nth === switchAt + 1)
    })
    const err = await apply(t, c2, stage(t, c2, 'venv2'), { runner }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PhaseError)
    expect((err as PhaseError).message).toMatch(
      /Rolled back — restored: IIS configuration from backup django-iis-deploy-r2-\S+; app pool DefaultWebSite-app recycled$/
    )
    expect(t.sandbox.readConfig()).toBe(before)
    const writes = t.sandbox.mutatingCalls()
    const failed = writes.findLastIndex(c => c.exitCode === 32)
    const restore = writes.findIndex(c => c.argv[0] === 'restore')
    expect(failed).toBeGreaterThan(0)
    expect(writes[failed].argv[0]).toBe('set')
    expect(restore).toBe(failed + 1)
    expect(writes.at(-1)!.argv).toEqual(['recycle', 'apppool', `/apppool.name:${POOL}`])
    expect(t.log.lines.join('\n')).toMatch(/Undoing this run's IIS changes one by one failed .*restoring backup/)
  }, 600_000)

  it('names a change someone else made since the backup that restoring it reverts', async () => {
    target = createTarget()
    const t = target
    const c1 = configFor(t, 'r1')
    await apply(t, c1, stage(t, c1, 'venv1'))
    // After apply, the rollback's first inverse fails: the backup is restored instead.
    let armed = false
    const runner = failingRunner(t.runner, t.sandbox, argv => armed && argv[0] !== 'list' && !(armed = false))
    const c2 = configFor(t, 'r2')
    const result = await apply(t, c2, stage(t, c2, 'venv2'), { runner })
    const other = [
      'set',
      'config',
      '-section:system.webServer/fastCgi',
      "/+[fullPath='C:\\other\\python.exe',arguments='w.py']",
      '/commit:apphost'
    ]
    expect((await runDouble(t.sandbox.appcmdPath, other, t.sandbox.env)).exitCode).toBe(0)
    armed = true
    const rb = await result.rollback()
    expect(rb.restored.join('; ')).toMatch(/IIS configuration from backup/)
    expect(t.log.lines.join('\n')).toMatch(
      /Restoring backup django-iis-deploy-r2-\S+ also reverts changes made by someone else since it was taken: FastCGI application C:\\other\\python\.exe was registered/
    )
  }, 600_000)
})
