import { afterEach, describe, expect, it } from 'vitest'
import { apply, configFor, createTarget, SECRET, stage, type Target } from './apply-fixture.js'

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
})
