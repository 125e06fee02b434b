import { afterEach, describe, expect, it } from 'vitest'
import { layoutFor } from '../src/layout.js'
import { acquireLock } from '../src/iis/lock.js'
import { apply, applyUnlocked, configFor, createTarget, stage, type Target } from './support/apply-fixture.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

describe('two applies on one target', () => {
  it('are serialized by the lock and leave a consistent final state', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1, 'venv1'))
    target.sandbox.resetCounters()
    const cA = configFor(target, 'rA')
    const cB = configFor(target, 'rB', { env: 'GREETING=hej' })
    const dA = stage(target, cA, 'venvA')
    const dB = stage(target, cB, 'venvB')
    const [a, b] = await Promise.all([apply(target, cA, dA), apply(target, cB, dB)])
    const layout = layoutFor(cA.deployRoot)

    // Each run's writes form one block: backup first, recycle last, nothing of the other run in between.
    const writes = target.sandbox.mutatingCalls().map(c => c.argv.join(' '))
    const backups = writes.map((w, i) => (w.startsWith('add backup') ? i : -1)).filter(i => i >= 0)
    const recycles = writes.map((w, i) => (w.startsWith('recycle apppool') ? i : -1)).filter(i => i >= 0)
    expect(backups).toHaveLength(2)
    expect(recycles).toEqual([backups[1] - 1, writes.length - 1])
    expect(backups[0]).toBe(0)

    // The run that went second saw the first one's release as the previous one and won.
    const [first, second] = writes[0].includes('-rA-') ? [a, b] : [b, a]
    const [firstDesired, secondDesired] = first === a ? [dA, dB] : [dB, dA]
    expect(first.previousPhysicalPath).toBe(layout.releaseDir('r1'))
    expect(second.previousPhysicalPath).toBe(firstDesired.app.physicalPath)
    const xml = target.sandbox.readConfig()
    expect(xml).toContain(`<virtualDirectory path="/" physicalPath="${secondDesired.app.physicalPath}"`)
    // Exactly one FastCGI application, the winner's, with the winner's variables.
    expect(xml.match(/<application fullPath=/g)).toHaveLength(1)
    expect(xml).toContain(`fullPath="${secondDesired.fastCgi!.fullPath}"`)
    expect(xml).toContain(`name="GREETING" value="${second === b ? 'hej' : 'hello'}"`)
    expect(target.log.lines.some(l => /Waiting for run r[AB]/.test(l))).toBe(true)
  })

  it('apply takes no lock of its own: it and its rollback run under the lock the caller holds', async () => {
    target = createTarget()
    const config = configFor(target, 'r1')
    const lock = await acquireLock({
      dir: config.deployRoot,
      site: config.siteName,
      appPath: config.appPath,
      runId: 'main',
      timeoutMs: 0,
      log: target.log
    })
    try {
      // With lock-timeout 0, taking the lock again would fail at once.
      const held = configFor(target, 'r1', { 'lock-timeout': '0' })
      const result = await applyUnlocked(target, held, stage(target, held))
      expect(result.changed).toBe(true)
      expect((await result.rollback()).ok).toBe(true)
      // The lock is really held: a run that takes it (as main does) gives up at once.
      await expect(apply(target, held, stage(target, held))).rejects.toThrow(/gave up after lock-timeout/)
    } finally {
      lock.release()
    }
  })
})
