import { describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { layoutFor } from '../src/layout.js'
import { parseSite } from '../src/iis/state.js'
import { locationPath } from '../src/iis/app-location.js'
import { apply, configFor, createTarget, stage, type Target } from './support/apply-fixture.js'
import type { DeployConfig } from '../src/config.js'
import type { DesiredState } from '../src/plan/types.js'

/** The root vdir's physical path as IIS would report it, read from the double's config via appcmd's own XML shape. */
function servedPath(target: Target, desired: DesiredState): string | undefined {
  const xml = target.sandbox.readConfig()
  const site = /<site name="Default Web Site"[\s\S]*?<\/site>/.exec(xml)?.[0] ?? ''
  return parseSite(`<appcmd><SITE SITE.NAME="Default Web Site">${site}</SITE></appcmd>`, desired).app.physicalPath
}

/** The config without the `<location path="...">` elements of one path. */
function withoutLocation(xml: string, locationPath: string): string {
  const escaped = locationPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return xml.replace(new RegExp(`\\n *<location path="${escaped}"[^>]*?(/>|>[\\s\\S]*?</location>)`, 'g'), '')
}

async function expectFailure(promise: Promise<unknown>): Promise<PhaseError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(PhaseError)
  return err as PhaseError
}

/** Counts the mutating calls of one clean run of `scenario`, so the loop covers every one of them. */
async function mutatingCallsOf(scenario: (t: Target) => Promise<{ config: DeployConfig; desired: DesiredState }>): Promise<string[][]> {
  const t = createTarget()
  try {
    const { config, desired } = await scenario(t)
    t.sandbox.resetCounters()
    await apply(t, config, desired)
    return t.sandbox.mutatingCalls().map(c => c.argv)
  } finally {
    t.cleanup()
  }
}

const fresh = async (t: Target) => {
  const config = configFor(t, 'r1')
  return { config, desired: stage(t, config) }
}

/** STATIC_URL '/app/assets/' is not the release's static folder: the upgrade moves a static vdir too. */
const ASSETS = { staticUrl: '/app/assets/', forceScriptName: null }

const upgrade = async (t: Target) => {
  const c1 = configFor(t, 'r1')
  await apply(t, c1, stage(t, c1, 'venv1', ASSETS))
  const c2 = configFor(t, 'r2', { env: 'GREETING=bonjour', 'secret-env': 'API_TOKEN=rotated-Secret-7' })
  return { config: c2, desired: stage(t, c2, 'venv2', ASSETS) }
}

describe('a fault at each mutating appcmd call leaves IIS exactly as it was', () => {
  for (const [name, scenario] of [
    ['first deploy', fresh],
    ['upgrade to a new release and venv', upgrade]
  ] as const) {
    it(`${name}: every k = 1..N`, async () => {
      const clean = await mutatingCallsOf(scenario)
      // backup, the changes, the switch or app creation, recycle: a real sequence, not a trivial one.
      expect(clean.length).toBeGreaterThanOrEqual(10)
      expect(clean[0].slice(0, 2)).toEqual(['add', 'backup'])
      for (let k = 1; k <= clean.length; k++) {
        const t = createTarget()
        try {
          const { config, desired } = await scenario(t)
          const before = t.sandbox.readConfig()
          const servedBefore = servedPath(t, desired)
          t.sandbox.resetCounters()
          t.sandbox.failAt(k)
          const err = await expectFailure(apply(t, config, desired))
          t.sandbox.failAt(undefined)
          // A first deploy may leave its app's location settings (handlers unlocked, anonymous user), inert once
          // the app itself is gone; everything else is exactly as it was.
          const comparable = (xml: string) => (name === 'first deploy' ? withoutLocation(xml, locationPath(desired.app)) : xml)
          expect(comparable(t.sandbox.readConfig()), `k=${k}: ${clean[k - 1].join(' ')}`).toBe(comparable(before))
          expect(servedPath(t, desired)).toBe(servedBefore)
          if (name === 'upgrade to a new release and venv') expect(servedBefore).toBe(layoutFor(config.deployRoot).releaseDir('r1'))
          expect(err.phase).toBe('apply')
          if (k === 1) {
            expect(err.message).toMatch(/could not take an IIS configuration backup, so nothing was changed/)
          } else {
            expect(err.message).toMatch(
              /^apply failed at step ".+": appcmd .* failed \(exit 32, locked\): Failed to commit configuration changes\./
            )
            expect(err.message).toMatch(
              /Rolled back — restored: (this run's IIS changes, undone one by one \(\d+ operations\)|no IIS change of this run needed undoing)/
            )
            expect(err.message).not.toMatch(/NOT restored/)
            // Undone by inverse operations only: never `restore backup`, which stops the whole server.
            const writes = t.sandbox.mutatingCalls().map(c => c.argv)
            expect(writes.filter(w => w[0] === 'restore')).toEqual([])
            if (name === 'upgrade to a new release and venv') {
              // The pool existed before: its workers may run the failed configuration, so it is recycled last.
              expect(writes.at(-1)).toEqual(['recycle', 'apppool', `/apppool.name:${desired.pool.name}`])
              expect(err.message).toContain(`app pool ${desired.pool.name} recycled`)
            } else {
              expect(writes.filter(w => w[0] === 'recycle').length).toBeLessThanOrEqual(k === clean.length ? 1 : 0)
            }
          }
          expect(err.message).not.toContain('rotated-Secret-7')
          expect(t.log.lines.join('\n')).not.toContain('rotated-Secret-7')
          if (k === 2 || k === clean.length) {
            // A later run still converges: nothing half-done (lock, unlock record, ACL record) blocks it.
            const retry = await apply(t, config, desired)
            expect(retry.changed).toBe(true)
            expect(servedPath(t, desired)).toBe(desired.app.physicalPath)
          }
        } finally {
          t.cleanup()
        }
      }
    }, 900_000)
  }
})
