import fs from 'node:fs'
import path from 'node:path'
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom'
import { afterEach, describe, expect, it } from 'vitest'
import { InputError, PhaseError } from '../src/errors.js'
import { parseAuth } from '../src/inputs/auth.js'
import { parsePoolIdentity } from '../src/inputs/identity.js'
import { authOps } from '../src/plan/auth-ops.js'
import { identityArgs, identityChange, poolPasswordRecord, samePoolPassword } from '../src/plan/identity-ops.js'
import { planJson, planText } from '../src/plan/plan-file.js'
import type { CurrentState } from '../src/iis/state.js'
import type { DesiredState } from '../src/plan/types.js'
import { apply, configFor, createTarget, stage, type Target } from './support/apply-fixture.js'
import { filesBelow } from './support/run-action.js'

// A password with the characters that break quoting: " ' % and spaces.
const PASSWORD = `pa"ss 'w%rd% x`
const ACCOUNT = { 'pool-identity': 'CORP\\svc-app', 'pool-identity-password': PASSWORD }

function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    if (err instanceof InputError) return err
    throw err
  }
  throw new Error('no InputError')
}

describe('pool-identity and pool-identity-password', () => {
  it('accepts the built-in identities, domain and local accounts with a password, and a gMSA without one', () => {
    expect(parsePoolIdentity('networkservice', '')).toEqual({ identity: 'NetworkService' })
    expect(parsePoolIdentity('ApplicationPoolIdentity', '')).toEqual({ identity: 'ApplicationPoolIdentity' })
    expect(parsePoolIdentity('CORP\\svc-app', 'x y')).toEqual({
      identity: 'SpecificUser',
      account: { userName: 'CORP\\svc-app', kind: 'account', password: 'x y' }
    })
    expect(parsePoolIdentity('.\\webapp', 'pw1').account?.kind).toBe('account')
    expect(parsePoolIdentity('CORP\\svc-app$', '')).toEqual({
      identity: 'SpecificUser',
      account: { userName: 'CORP\\svc-app$', kind: 'gmsa', password: '' }
    })
  })

  it('refuses bad account names and wrong password combinations with one error naming the input', () => {
    for (const bad of ['svc-app', 'svc@corp.example', 'CORP\\a/b', 'CORP\\', 'CORP\\much-too-long-account-name', 'CO RP\\x', 'CORP\\x]']) {
      const err = inputError(() => parsePoolIdentity(bad, 'pw'))
      expect(err.input, bad).toBe('pool-identity')
      expect(err.message).toMatch(/use ApplicationPoolIdentity, .*DOMAIN\\gmsa\$/)
    }
    expect(inputError(() => parsePoolIdentity('CORP\\svc', '')).input).toBe('pool-identity-password')
    expect(inputError(() => parsePoolIdentity('CORP\\svc$', 'pw')).message).toMatch(/group managed service account, which has no password/)
    expect(inputError(() => parsePoolIdentity('LocalSystem', 'pw')).input).toBe('pool-identity-password')
    expect(inputError(() => parsePoolIdentity('CORP\\svc', 'pw')).message).toMatch(/too short to mask/)
    expect(inputError(() => parsePoolIdentity('.\\svc$', '')).message).toMatch(/belongs to a domain/)
    // The password never appears in an error.
    expect(inputError(() => parsePoolIdentity('CORP\\a/b', PASSWORD)).message).not.toContain(PASSWORD)
  })
})

describe('auth', () => {
  it('keeps shibboleth: true working and refuses windows with httpplatform, saying why', () => {
    expect(parseAuth('', false, 'fastcgi')).toBe('anonymous')
    expect(parseAuth('', true, 'fastcgi')).toBe('shibboleth')
    expect(parseAuth('Windows', false, 'fastcgi')).toBe('windows')
    expect(inputError(() => parseAuth('windows', true, 'fastcgi')).message).toMatch(/shibboleth is true/)
    expect(inputError(() => parseAuth('kerberos', false, 'fastcgi')).input).toBe('auth')
    expect(inputError(() => parseAuth('windows', false, 'httpplatform')).message).toMatch(/Windows token handle in a header/)
  })
})

const pool = (over: Partial<DesiredState['pool']> = {}): DesiredState['pool'] => ({
  name: 'P',
  identity: 'SpecificUser',
  account: { userName: 'CORP\\svc', kind: 'account', password: PASSWORD },
  managedRuntimeVersion: '',
  ...over
})
const state = (over: Partial<CurrentState> = {}): CurrentState => ({
  pool: { exists: true, identity: 'SpecificUser', userName: 'CORP\\svc', managedRuntimeVersion: '' },
  site: { exists: true, id: 1, bindings: [] },
  app: { exists: true },
  vdirs: [],
  fastCgi: [],
  handlersUnlocked: true,
  anonymousAsPool: true,
  ...over
})

describe('the pool identity operations', () => {
  it('tells the same password from another by a salted hash that does not hold it', () => {
    const record = poolPasswordRecord(pool(), undefined)!
    expect(JSON.stringify(record)).not.toContain(PASSWORD)
    expect(record.salt).toMatch(/^[0-9a-f]{32}$/)
    expect(samePoolPassword(record, pool())).toBe(true)
    expect(poolPasswordRecord(pool(), record)).toBe(record)
    const other = pool({ account: { userName: 'CORP\\svc', kind: 'account', password: 'new one' } })
    expect(samePoolPassword(record, other)).toBe(false)
    expect(identityChange(state({ poolPassword: record }), pool())).toBeUndefined()
    const change = identityChange(state({ poolPassword: record }), other)!
    expect(change.why).toBe('identity CORP\\svc: the password differs from the one set last')
    expect(change.args).toEqual([
      '/processModel.identityType:SpecificUser',
      '/processModel.userName:CORP\\svc',
      '/processModel.password:new one'
    ])
    expect(change.secrets).toEqual(['new one'])
    // No record (set by hand, or record lost): set again rather than trust it.
    expect(identityChange(state(), pool())?.why).toMatch(/not set by this tool/)
  })

  it('masks the password in plan.json and the plan log, whatever its quotes and percent signs', () => {
    const { args, secrets } = identityArgs(pool())
    const plan = {
      target: { site: 'S', appPath: '/app', pool: 'P', deployRoot: 'C:\\apps', hosting: 'fastcgi' },
      mode: 'plan',
      release: 'r1',
      diffedAgainstServer: false,
      operations: [
        {
          phase: 'pool' as const,
          tool: 'appcmd' as const,
          argv: ['add', 'apppool', '/name:P', ...args],
          why: 'app pool P does not exist',
          mutates: true,
          secrets
        }
      ],
      files: []
    }
    for (const text of [planJson(plan, t => t), planText(plan, t => t)]) {
      expect(text).not.toContain(PASSWORD)
      expect(text).not.toContain(JSON.stringify(PASSWORD).slice(1, -1))
      expect(text).toContain('/processModel.password:***')
    }
  })

  it('clears the account when going back to a built-in identity, and sets a gMSA without a password', () => {
    const builtin = identityChange(state(), pool({ identity: 'ApplicationPoolIdentity', account: undefined }))!
    expect(builtin.args).toEqual([
      '/processModel.identityType:ApplicationPoolIdentity',
      '/processModel.userName:',
      '/processModel.password:'
    ])
    const gmsa = pool({ account: { userName: 'CORP\\svc$', kind: 'gmsa', password: '' } })
    expect(identityChange(state(), gmsa)?.args).toEqual([
      '/processModel.identityType:SpecificUser',
      '/processModel.userName:CORP\\svc$',
      '/processModel.password:'
    ])
    expect(identityChange(state({ pool: { exists: true, identity: 'SpecificUser', userName: 'corp\\SVC$' } }), gmsa)).toBeUndefined()
  })
})

describe('the authentication operations', () => {
  const desired = (mode: 'anonymous' | 'windows' | 'shibboleth', cred = false) =>
    ({ app: { site: 'S', path: '/app' }, pool: pool(), auth: { mode, useAppPoolCredentials: cred } }) as unknown as DesiredState

  it('sets Windows Authentication at the app location with /commit:apphost, once, and removes exactly that', () => {
    const objects: never[] = []
    const on = authOps(state(), desired('windows', true), objects)
    expect(on.map(o => o.argv)).toEqual([
      [
        'set',
        'config',
        'S/app',
        '-section:system.webServer/security/authentication/anonymousAuthentication',
        '/enabled:false',
        '/commit:apphost'
      ],
      [
        'set',
        'config',
        'S/app',
        '-section:system.webServer/security/authentication/windowsAuthentication',
        '/enabled:true',
        '/useAppPoolCredentials:true',
        '/commit:apphost'
      ],
      [
        'set',
        'config',
        'S/app',
        '-section:system.webServer/serverRuntime',
        '/authenticatedUserOverride:UseWorkerProcessUser',
        '/commit:apphost'
      ]
    ])
    expect(authOps(state({ windowsAuth: { useAppPoolCredentials: true } }), desired('windows', true), [])).toEqual([])
    const off = authOps(state({ windowsAuth: { useAppPoolCredentials: true } }), desired('shibboleth'), [])
    expect(off.map(o => o.argv.slice(3, -1))).toEqual([
      ['-section:system.webServer/security/authentication/windowsAuthentication', '--enabled', '--useAppPoolCredentials'],
      ['-section:system.webServer/serverRuntime', '--authenticatedUserOverride'],
      ['-section:system.webServer/security/authentication/anonymousAuthentication', '--enabled']
    ])
    expect(authOps(state(), desired('anonymous'), [])).toEqual([])
  })
})

let target: Target | undefined
afterEach(() => target?.cleanup())

/** applicationHost.config without elements that carry nothing (what removing every attribute leaves). */
function meaningful(xml: string): string {
  const doc = new DOMParser().parseFromString(xml, 'text/xml')
  const prune = (el: Element): boolean => {
    for (const c of Array.from(el.childNodes)) {
      if (c.nodeType === 1 && prune(c as Element)) el.removeChild(c)
      else if (c.nodeType === 3 && !(c.nodeValue ?? '').trim()) el.removeChild(c)
    }
    return el.attributes.length === 0 && el.childNodes.length === 0
  }
  prune(doc.documentElement as Element)
  return new XMLSerializer().serializeToString(doc)
}

function writes(t: Target): string[][] {
  return t.sandbox.mutatingCalls().map(c => c.argv)
}

/**
 * Every place the password could leak to: the log, IIS's file, every file under deploy-root. (The double's pool
 * read shows it decrypted, as real appcmd may: the product must never print that read.)
 */
function expectNoPassword(t: Target): void {
  expect(t.log.lines.join('\n')).not.toContain(PASSWORD)
  expect(t.sandbox.readConfig()).not.toContain(PASSWORD)
  for (const file of filesBelow(t.deployRoot)) expect(fs.readFileSync(path.join(t.deployRoot, file), 'utf8'), file).not.toContain(PASSWORD)
}

describe('applyRelease with pool accounts and auth modes against the doubles', () => {
  it('an account change is backup, write, recycle, the same account and password a no-op, a new password a write', async () => {
    target = createTarget()
    const t = target
    await apply(t, configFor(t, 'r1'), stage(t, configFor(t, 'r1')))
    t.sandbox.resetCounters()

    const config = configFor(t, 'r1', ACCOUNT)
    const desired = stage(t, config)
    const result = await apply(t, config, desired)
    expect(writes(t).map(w => w.slice(0, 2).join(' '))).toEqual(['add backup', 'set apppool', 'recycle apppool'])
    expect(writes(t)[1]).toEqual([
      'set',
      'apppool',
      `/apppool.name:${desired.pool.name}`,
      '/processModel.identityType:SpecificUser',
      '/processModel.userName:CORP\\svc-app',
      `/processModel.password:${PASSWORD}`
    ])
    expect(result.operations.find(o => o.argv[1] === 'apppool')?.why).toBe(
      `app pool ${desired.pool.name}: identity ApplicationPoolIdentity → CORP\\svc-app`
    )
    // Stored encrypted, the clear password nowhere; every grant to the account now.
    expect(t.sandbox.readConfig()).toMatch(/password="\[enc:IISWASOnlyRsaProvider:[A-Za-z0-9+/=]+:enc\]"/)
    expect(new Set(t.sandbox.aclGrants().map(g => g.principal))).toEqual(new Set(['CORP\\svc-app']))
    expectNoPassword(t)

    t.sandbox.resetCounters()
    const again = await apply(t, configFor(t, 'r1', ACCOUNT), stage(t, configFor(t, 'r1', ACCOUNT)))
    expect(again.changed).toBe(false)
    expect(writes(t)).toEqual([])

    const rotated = { ...ACCOUNT, 'pool-identity-password': 'rotated pass' }
    await apply(t, configFor(t, 'r1', rotated), stage(t, configFor(t, 'r1', rotated)))
    expect(writes(t).map(w => w.slice(0, 2).join(' '))).toEqual(['add backup', 'set apppool', 'recycle apppool'])
    expect(writes(t)[1]?.at(-1)).toBe('/processModel.password:rotated pass')
  })

  it('anonymous → windows → shibboleth → anonymous leaves nothing stale, and a repeated mode is a no-op', async () => {
    target = createTarget()
    const t = target
    const run = async (inputs: Record<string, string>) => {
      const config = configFor(t, 'r1', {
        ...ACCOUNT,
        'shibboleth-host': 'intranet.example.org',
        'shibboleth-check': 'shibd -check',
        ...inputs
      })
      t.sandbox.resetCounters()
      await apply(t, config, stage(t, config))
      return writes(t)
    }
    await run({})
    const anonymous = meaningful(t.sandbox.readConfig())

    const toWindows = await run({ auth: 'windows' })
    expect(toWindows.filter(w => w[0] === 'set' && w[1] === 'config').map(w => w.slice(2, 5))).toEqual([
      ['Default Web Site/app', '-section:system.webServer/security/authentication/anonymousAuthentication', '/enabled:false'],
      ['Default Web Site/app', '-section:system.webServer/security/authentication/windowsAuthentication', '/enabled:true'],
      ['Default Web Site/app', '-section:system.webServer/serverRuntime', '/authenticatedUserOverride:UseWorkerProcessUser']
    ])
    const loc = /<location path="Default Web Site\/app">[\s\S]*?<\/location>/.exec(t.sandbox.readConfig())?.[0] ?? ''
    expect(loc).toMatch(/<windowsAuthentication enabled="true" useAppPoolCredentials="true"/)
    expect(loc).toMatch(/<anonymousAuthentication [^>]*enabled="false"/)
    expect(await run({ auth: 'windows' })).toEqual([])

    // The SP's own configuration is the shibboleth phase's (not run here): IIS goes back to anonymous access.
    const toShibboleth = await run({ shibboleth: 'true' })
    expect(toShibboleth.map(w => w.slice(0, 2).join(' '))).toEqual([
      'add backup',
      'set config',
      'set config',
      'set config',
      'recycle apppool'
    ])
    expect(meaningful(t.sandbox.readConfig())).toBe(anonymous)
    expect(await run({ auth: 'shibboleth' })).toEqual([])
    expect(await run({})).toEqual([])
    expect(meaningful(t.sandbox.readConfig())).toBe(anonymous)
    expectNoPassword(t)
  })

  it('a fault at each write of a switch to windows with an account leaves IIS and the record as they were', async () => {
    const scenario = async (t: Target) => {
      await apply(t, configFor(t, 'r1'), stage(t, configFor(t, 'r1')))
      const config = configFor(t, 'r1', { ...ACCOUNT, auth: 'windows' })
      return { config, desired: stage(t, config) }
    }
    const probe = createTarget()
    let count: number
    try {
      const { config, desired } = await scenario(probe)
      probe.sandbox.resetCounters()
      await apply(probe, config, desired)
      count = writes(probe).length
    } finally {
      probe.cleanup()
    }
    expect(count).toBe(6)
    for (let k = 2; k <= count; k++) {
      const t = createTarget()
      try {
        const { config, desired } = await scenario(t)
        const before = t.sandbox.readConfig()
        const record = fs.readFileSync(path.join(t.deployRoot, 'iis-state.json'), 'utf8')
        t.sandbox.resetCounters()
        t.sandbox.failAt(k)
        const err = await apply(t, config, desired).then(
          () => undefined,
          (e: unknown) => e
        )
        t.sandbox.failAt(undefined)
        expect(err, `k=${k}`).toBeInstanceOf(PhaseError)
        expect((err as PhaseError).message).not.toMatch(/NOT restored/)
        expect(t.sandbox.readConfig(), `k=${k}`).toBe(before)
        // As it was, but for the FastCGI registration: a rollback makes the next run read it (src/iis/fastcgi-record.ts).
        const after = JSON.parse(fs.readFileSync(path.join(t.deployRoot, 'iis-state.json'), 'utf8')) as Record<string, unknown>
        expect(after.fastCgi).toEqual({})
        expect({ ...after, fastCgi: undefined }).toEqual({ ...(JSON.parse(record) as Record<string, unknown>), fastCgi: undefined })
        expectNoPassword(t)
        // The next run converges.
        expect((await apply(t, config, desired)).changed).toBe(true)
      } finally {
        t.cleanup()
      }
    }
  }, 900_000)
})
