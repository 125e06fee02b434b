import { afterEach, describe, expect, it } from 'vitest'
import { apply, configFor, createTarget, SECRET, stage, type Target } from './support/apply-fixture.js'
import { runDouble } from './support/run-double.js'

let target: Target | undefined
afterEach(() => target?.cleanup())

describe('applyRelease with hosting httpplatform', () => {
  it('moves a FastCGI app to HttpPlatformHandler: our FastCGI registration removed, secrets location-scoped, then a no-op', async () => {
    target = createTarget()
    const c1 = configFor(target, 'r1')
    await apply(target, c1, stage(target, c1))
    expect(target.sandbox.readConfig()).toContain('<application fullPath=')

    const c2 = configFor(target, 'r2', { hosting: 'httpplatform' })
    const d2 = stage(target, c2)
    expect(d2.httpPlatformSecretEnv.map(v => v.name)).toEqual(['API_TOKEN'])
    await apply(target, c2, d2)
    const xml = target.sandbox.readConfig()
    expect(xml).not.toContain('<application fullPath=')
    const location = /<location path="Default Web Site\/app">[\s\S]*?<\/location>/.exec(xml)?.[0] ?? ''
    expect(location).toContain('<httpPlatform>')
    expect(location).toContain(`<environmentVariable name="API_TOKEN" value="${SECRET}"`)
    expect(location).not.toContain('GREETING')
    expect(target.log.lines.join('\n')).not.toContain(SECRET)

    target.sandbox.resetCounters()
    const again = await apply(target, c2, stage(target, c2))
    expect(again.changed).toBe(false)
    expect(target.sandbox.mutatingCalls()).toEqual([])
    // httpplatform needs one more read, for the location's variables.
    expect(target.sandbox.calls()).toHaveLength(4)

    target.sandbox.resetCounters()
    const rotated = configFor(target, 'r2', { hosting: 'httpplatform', 'secret-env': 'API_TOKEN=rotated-Secret-9' })
    await apply(target, rotated, stage(target, rotated))
    expect(target.sandbox.mutatingCalls().map(c => c.argv.slice(0, 2).join(' '))).toEqual(['add backup', 'set config', 'recycle apppool'])
    expect(target.sandbox.readConfig()).toContain('name="API_TOKEN" value="rotated-Secret-9"')
    expect(target.log.lines.join('\n')).not.toContain('rotated-Secret-9')
  })

  it('changes only the httpPlatform variables it set, and removes them when the app goes back to fastcgi', async () => {
    target = createTarget()
    const hp = configFor(target, 'r1', { hosting: 'httpplatform' })
    await apply(target, hp, stage(target, hp))
    // A variable someone else set at the app's location (or one a read merges in from web.config): not ours.
    const byHand = await runDouble(
      target.sandbox.appcmdPath,
      [
        'set',
        'config',
        'Default Web Site/app',
        '-section:system.webServer/httpPlatform',
        "/+environmentVariables.[name='SET_BY_HAND',value='x']",
        '/commit:apphost'
      ],
      target.sandbox.env
    )
    expect(byHand.exitCode).toBe(0)

    target.sandbox.resetCounters()
    const again = await apply(target, hp, stage(target, hp))
    expect(again.changed).toBe(false)
    expect(target.sandbox.mutatingCalls()).toEqual([])

    const back = configFor(target, 'r2')
    await apply(target, back, stage(target, back))
    const xml = target.sandbox.readConfig()
    const location = /<location path="Default Web Site\/app">[\s\S]*?<\/location>/.exec(xml)?.[0] ?? ''
    expect(location).not.toContain('API_TOKEN')
    expect(location).toContain('SET_BY_HAND')
    expect(xml).toContain('<application fullPath=')

    // Back on fastcgi with nothing of ours left at the location, a re-run of the same release: three reads, no writes.
    target.sandbox.resetCounters()
    const steady = await apply(target, back, stage(target, back), { releaseReused: true })
    expect(steady.changed).toBe(false)
    expect(target.sandbox.calls()).toHaveLength(3)
  })
})
