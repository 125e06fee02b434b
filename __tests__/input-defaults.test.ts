import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { defaultsFiles, renderDefaults, syncDefaults } from '../scripts/input-defaults.mjs'
import { getInputs } from '../src/config.js'
import { INPUT_DEFAULTS } from '../src/inputs/defaults.js'
import { DEFAULT_CHECK, SP_DEFAULT_CONFIG } from '../src/shibboleth/check.js'

const root = path.join(import.meta.dirname, '..')
let app: string

beforeAll(() => {
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'defaults-'))
  fs.mkdirSync(path.join(app, 'site1'))
  fs.writeFileSync(path.join(app, 'manage.py'), "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site1.settings')\n")
  fs.writeFileSync(path.join(app, 'site1', 'settings.py'), 'X = 1\n')
  fs.writeFileSync(path.join(app, 'requirements.txt'), 'Django>=3.2\n')
})
afterAll(() => fs.rmSync(app, { recursive: true, force: true }))

describe('src/inputs/defaults.ts', () => {
  const { current, actionYaml } = defaultsFiles(root)

  it('matches a fresh generation from action.yml (run `npm run docs` to update)', () => {
    expect(current).toBe(renderDefaults(actionYaml))
    expect(syncDefaults({ check: true, dir: root })).toBe(true)
  })

  it('notices a changed default and an added input', () => {
    expect(renderDefaults(actionYaml.replace('default: deploy', 'default: plan'))).toContain("mode: 'plan'")
    const added = actionYaml.replace(/^inputs:\n/m, 'inputs:\n  brand-new:\n    description: Added later.\n    default: "x"\n')
    expect(renderDefaults(added)).toContain("'brand-new': 'x'")
  })

  it('holds every input of action.yml, with "" for the required ones', () => {
    const inputs = (parse(actionYaml) as { inputs: Record<string, { default?: string | number | boolean; required?: boolean }> }).inputs
    expect(Object.keys(INPUT_DEFAULTS)).toEqual(Object.keys(inputs))
    for (const [name, input] of Object.entries(inputs))
      expect(INPUT_DEFAULTS[name as keyof typeof INPUT_DEFAULTS]).toBe(String(input.default ?? ''))
  })
})

describe('getInputs with only the required inputs', () => {
  // Every other input empty, as a workflow that leaves them out (or sets them to '') passes them.
  const given: Record<string, string> = { 'app-dir': app, 'deploy-root': '/srv/app', 'app-path': '/app', mode: 'stage' }
  const config = () => getInputs(name => given[name] ?? '', {}, app)

  it("takes action.yml's defaults, the generated module being the only copy", () => {
    const c = config()
    expect(c.hosting).toBe(INPUT_DEFAULTS.hosting)
    expect(c.siteName).toBe(INPUT_DEFAULTS['site-name'])
    expect(c.wfastcgi).toBe(INPUT_DEFAULTS.wfastcgi)
    expect(c.poolIdentity).toBe(INPUT_DEFAULTS['pool-identity'])
    expect(c.anonymousUser).toBe(INPUT_DEFAULTS['anonymous-user'])
    expect(c.httpPlatformPackage).toBe(INPUT_DEFAULTS['httpplatform-package'])
    expect(c.shibboleth.configPath).toBe(INPUT_DEFAULTS['shibboleth-config'])
    expect(c.shibboleth.check.join(' ')).toBe(INPUT_DEFAULTS['shibboleth-check'])
    expect(c.shibboleth.service).toBe(INPUT_DEFAULTS['shibboleth-service'])
    expect(c.shibboleth.requireRemoteUser).toBe(INPUT_DEFAULTS['require-remote-user'] === 'true')
    expect(c.verify.status).toBe(Number(INPUT_DEFAULTS['verify-status']))
    expect(c.verify.requestTimeoutMs).toBe(Number(INPUT_DEFAULTS['verify-request-timeout']) * 1000)
    expect(c.verify.totalTimeoutMs).toBe(Number(INPUT_DEFAULTS['verify-timeout']) * 1000)
    expect(c.verify.intervalMs).toBe(Number(INPUT_DEFAULTS['verify-interval']) * 1000)
    expect(c.verify.checkStatic).toBe(INPUT_DEFAULTS['verify-static'] === 'true')
    expect(c.preflightPath).toBe(INPUT_DEFAULTS['preflight-path'])
    expect(c.icacls).toBe(INPUT_DEFAULTS.icacls)
    expect(c.keepReleases).toBe(Number(INPUT_DEFAULTS['keep-releases']))
    expect(c.keepBackups).toBe(Number(INPUT_DEFAULTS['keep-backups']))
    expect(c.lockTimeoutMs).toBe(Number(INPUT_DEFAULTS['lock-timeout']) * 1000)
  })

  it('reads the empty mode as the default one', () => {
    expect(getInputs(name => ({ ...given, mode: '' })[name] ?? '', {}, app).mode).toBe(INPUT_DEFAULTS.mode)
  })

  it('keeps no inline fallback to a default in the input modules', () => {
    const dir = path.join(root, 'src', 'inputs')
    const sources = fs
      .readdirSync(dir)
      .filter(f => f.endsWith('.ts') && f !== 'defaults.ts')
      .map(f => fs.readFileSync(path.join(dir, f), 'utf8'))
    const literals = Object.values(INPUT_DEFAULTS).filter(v => v !== '')
    // A default as it is written in TypeScript source ('C:\\opt...'), as a regular expression.
    const asSource = (value: string) => value.replace(/\\/g, '\\\\').replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')
    const fallback = (value: string) => new RegExp(`(\\|\\||\\?\\?)\\s*'${asSource(value)}'`)
    expect("get('mode') || 'deploy'").toMatch(fallback('deploy'))
    expect("x ?? 'C:\\\\opt\\\\a.xml'").toMatch(fallback('C:\\opt\\a.xml'))
    for (const source of sources) for (const value of literals) expect(source).not.toMatch(fallback(value))
  })

  it('shares the Shibboleth defaults with the SP check', () => {
    expect(DEFAULT_CHECK).toBe(INPUT_DEFAULTS['shibboleth-check'])
    expect(SP_DEFAULT_CONFIG).toBe(INPUT_DEFAULTS['shibboleth-config'])
  })
})
