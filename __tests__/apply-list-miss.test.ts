import { afterEach, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { layoutFor } from '../src/layout.js'
import type { ProcessRunner } from '../src/process.js'
import { apply, configFor, createTarget, stage, type Target } from './support/apply-fixture.js'

// How real appcmd answers `list apppool P` / `list site S` for a missing object is not settled: a first deploy
// (no pool, no app, no vdirs yet) must work with every form the double can give (APPCMD_DOUBLE_LIST_MISS).
const FORMS = [
  { form: 'exit1-empty', exit: 1 },
  { form: 'exit0-xml', exit: 0 },
  { form: 'exit0-xml-selfclosing', exit: 0 },
  { form: 'not-found', exit: 1168 } // the double logs the Windows code; the product sees 144
] as const

let target: Target | undefined
afterEach(() => target?.cleanup())

describe('a first deploy whatever form appcmd gives a list that matches nothing', () => {
  for (const { form, exit } of FORMS) {
    it(`${form}: the pool read misses, and pool, app and vdirs are created`, async () => {
      target = createTarget()
      target.sandbox.env.APPCMD_DOUBLE_LIST_MISS = form
      const config = configFor(target, 'r1')
      // STATIC_URL outside the release's static folder: a static vdir is created too.
      const desired = stage(target, config, 'venv1', { staticUrl: '/app/assets/', forceScriptName: null })
      const result = await apply(target, config, desired)
      expect(result.changed).toBe(true)

      // The miss really came in this form: the pool read is the first call.
      const poolRead = target.sandbox.calls().find(c => c.argv.slice(0, 3).join(' ') === `list apppool ${desired.pool.name}`)!
      expect(poolRead.exitCode).toBe(exit)
      expect(result.objects.filter(o => ['apppool', 'app', 'vdir'].includes(o.kind)).map(o => [o.kind, o.status])).toEqual([
        ['apppool', 'created'],
        ['app', 'created'],
        ['vdir', 'created']
      ])
      const xml = target.sandbox.readConfig()
      expect(xml).toContain(`<add name="${desired.pool.name}"`)
      expect(xml).toContain(`physicalPath="${layoutFor(config.deployRoot).releaseDir('r1')}"`)
      expect(xml).toContain(`physicalPath="${layoutFor(config.deployRoot).staticDir('r1')}"`)
    }, 600_000)
  }

  it('a real failure of the state read (access denied, exit 5) is never taken for "not found": nothing is written', async () => {
    target = createTarget()
    const t = target
    const denying: ProcessRunner = {
      run: async (file, args, options) =>
        args[0] === 'list' && args[1] === 'apppool'
          ? {
              exitCode: 5,
              stdout: 'ERROR ( hresult:80070005, message:Command execution failed.\r\nAccess is denied. )\r\n',
              stderr: '',
              durationMs: 1
            }
          : t.runner.run(file, args, options)
    }
    const config = configFor(t, 'r1')
    const desired = stage(t, config)
    const before = t.sandbox.readConfig()
    const err = await apply(t, config, desired, { runner: denying }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect(err).not.toBeInstanceOf(PhaseError)
    expect((err as Error).message).toMatch(/exit 5.*Access is denied/)
    expect(t.sandbox.mutatingCalls()).toEqual([])
    expect(t.sandbox.readConfig()).toBe(before)
  })
})
