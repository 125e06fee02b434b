import fs from 'node:fs'
import path from 'node:path'
import { beforeEach, describe, expect, test } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { run } from '../src/main.js'
import { execRunner } from '../src/process.js'
import { TemplateSet } from '../src/render/templates.js'
import { applyShibboleth, type ShibbolethApplyOptions } from '../src/shibboleth/apply.js'
import { checkShibbolethConfig } from '../src/shibboleth/check.js'
import { SP_RECORD_FILE, SpEntryRecord } from '../src/shibboleth/entry-record.js'
import { leaveShibboleth, type ShibbolethLeaveOptions } from '../src/shibboleth/leave.js'
import type { ShibbolethWant } from '../src/shibboleth/patch.js'
import { planLeaveShibboleth } from '../src/shibboleth/plan.js'
import { captureLog, type CapturedLog } from './support/iis-test-log.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { FIXTURES, ourParts, SHIBD_CHECK, tempDir } from './support/shibboleth-support.js'

// Site 1 answers to example.edu by its Alias, so only the RequestMap changes: the ISAPI Site list, which leaving
// shibboleth keeps, stays as it was.
const newHost: ShibbolethWant = { siteId: 1, host: 'example.edu', appPath: '/app', remoteUser: [] }
const existingHost: ShibbolethWant = { siteId: 1, host: 'www.example.edu', appPath: '/App', remoteUser: [] }

let dir: string
let deployRoot: string
let configPath: string
let net: string
let log: CapturedLog

const netCalls = (): string[] => {
  const file = path.join(dir, 'net-calls.log')
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : []
}
const recorded = () => SpEntryRecord.read(deployRoot).entriesFor(configPath)

function shib(want: ShibbolethWant, extra: Partial<ShibbolethApplyOptions> = {}): Promise<unknown> {
  const options: ShibbolethApplyOptions = {
    configPath,
    site: 'Default Web Site',
    want,
    check: SHIBD_CHECK,
    service: 'shibd_Default',
    net,
    runner: execRunner,
    log,
    templates: new TemplateSet(),
    deployRoot,
    ...extra
  }
  return applyShibboleth(options)
}

function leave(extra: Partial<ShibbolethLeaveOptions> = {}) {
  return leaveShibboleth({ configPath, check: SHIBD_CHECK, service: 'shibd_Default', net, runner: execRunner, log, deployRoot, ...extra })
}

/** The file is well-formed to xmllint and the real SP loads it. */
async function spAccepts(): Promise<boolean> {
  const wellFormed = await execRunner.run('xmllint', ['--noout', configPath])
  return wellFormed.exitCode === 0 && (await checkShibbolethConfig(execRunner, SHIBD_CHECK, configPath)).ok
}

beforeEach(() => {
  dir = tempDir('shib-leave-')
  deployRoot = path.join(dir, 'deploy')
  fs.mkdirSync(deployRoot)
  configPath = path.join(dir, 'shibboleth2.xml')
  fs.copyFileSync(path.join(FIXTURES, 'iis-bom-crlf.xml'), configPath)
  net = path.join(dir, 'net')
  fs.copyFileSync(path.join(FIXTURES, 'net-double.sh'), net)
  fs.chmodSync(net, 0o755)
  log = captureLog()
})

describe('leaving auth: shibboleth', () => {
  test.each([
    ['a Host of its own', newHost, 'Host'],
    ['a Path in a Host someone else wrote', existingHost, 'Path']
  ])('removes %s that the action added; the rest of the file is byte for byte the original', async (_name, want, added) => {
    const original = fs.readFileSync(configPath)
    await shib(want)
    expect(recorded()).toEqual([{ configPath, host: want.host, path: 'app', added }])
    expect(ourParts(fs.readFileSync(configPath, 'utf8'), want).paths).toHaveLength(1)

    const left = await leave()
    expect(left.changed).toBe(true)
    expect(left.changes).toEqual([expect.stringMatching(/^removed RequestMap Host '.*' Path 'app', which this action added/)])
    expect(fs.readFileSync(configPath).equals(original)).toBe(true)
    expect(await spAccepts()).toBe(true)
    expect(netCalls()).toEqual(['stop shibd_Default', 'start shibd_Default', 'stop shibd_Default', 'start shibd_Default'])
    expect(recorded()).toEqual([])
  })

  test('a second run that is not shibboleth writes nothing and restarts nothing', async () => {
    await shib(newHost)
    await leave()
    const stat = fs.statSync(configPath)
    const calls = netCalls()
    const again = await leave()
    expect(again.changed).toBe(false)
    expect(fs.statSync(configPath).mtimeMs).toBe(stat.mtimeMs)
    expect(fs.statSync(configPath).ino).toBe(stat.ino)
    expect(netCalls()).toEqual(calls)
  })

  test('shibboleth → another mode → shibboleth ends with the file of the first shibboleth deploy', async () => {
    for (const want of [newHost, existingHost]) {
      fs.copyFileSync(path.join(FIXTURES, 'iis-bom-crlf.xml'), configPath)
      await shib(want)
      const first = fs.readFileSync(configPath)
      await leave()
      await shib(want)
      expect(fs.readFileSync(configPath).equals(first)).toBe(true)
      expect(recorded()).toHaveLength(1)
    }
  })

  const withoutMapper = (): string =>
    fs.readFileSync(path.join(FIXTURES, 'iis-bom-crlf.xml'), 'utf8').replace(/\r\n\r\n {4}<!-- Requests[\s\S]*<\/RequestMapper>/, '')
  test.each([
    ['prefixed elements', () => fs.readFileSync(path.join(FIXTURES, 'iis-prefixed.xml'), 'utf8'), { ...existingHost, appPath: '/app' }],
    [
      'tab indentation',
      () => fs.readFileSync(path.join(FIXTURES, 'iis-existing-host.xml'), 'utf8'),
      { ...newHost, siteId: 3, host: 'apps.example.edu' }
    ],
    ['no RequestMapper', withoutMapper, newHost],
    ['the whole host', () => fs.readFileSync(path.join(FIXTURES, 'iis-bom-crlf.xml'), 'utf8'), { ...newHost, appPath: '/' }]
  ])("with %s: leaving restores the original bytes, and coming back the first deploy's", async (_name, text, want) => {
    fs.writeFileSync(configPath, text())
    const original = fs.readFileSync(configPath)
    await shib(want)
    const first = fs.readFileSync(configPath)
    expect(first.equals(original)).toBe(false)
    expect((await leave()).changed).toBe(true)
    expect(fs.readFileSync(configPath).equals(original)).toBe(true)
    await shib(want)
    expect(fs.readFileSync(configPath).equals(first)).toBe(true)
  })

  test('a file the action created from its template loses the app entry, and gets the same back', async () => {
    fs.rmSync(configPath)
    await shib(newHost)
    const first = fs.readFileSync(configPath, 'utf8')
    expect(recorded()[0]?.added).toBe('Host')
    await leave()
    const left = fs.readFileSync(configPath, 'utf8')
    expect(ourParts(left, newHost).hosts).toEqual([])
    expect(left).toContain('<RequestMap>')
    expect(await spAccepts()).toBe(true)
    await shib(newHost)
    expect(fs.readFileSync(configPath, 'utf8')).toBe(first)
  })

  test('an entry the action did not add stays: one that was there before, one written before the record, and a Path added next to ours', async () => {
    // The whole-host entry for intranet.example.edu is the file's own: the deploy adds nothing and records nothing.
    await shib({ siteId: 2, host: 'intranet.example.edu', appPath: '/', remoteUser: [] })
    expect(recorded()).toEqual([])
    const untouched = fs.readFileSync(configPath)
    expect((await leave()).changed).toBe(false)
    expect(fs.readFileSync(configPath).equals(untouched)).toBe(true)

    // Added by a deploy that kept no record (an older version of the action): not ours to remove.
    await shib(newHost)
    fs.rmSync(path.join(deployRoot, SP_RECORD_FILE))
    const unrecorded = fs.readFileSync(configPath)
    expect((await leave()).changed).toBe(false)
    expect(fs.readFileSync(configPath).equals(unrecorded)).toBe(true)
  })

  test('a Path someone added in the Host the action added stays, with its Host', async () => {
    await shib(newHost)
    const theirs = '<Path name="reports" authType="shibboleth" requireSession="true"/>'
    const text = fs.readFileSync(configPath, 'utf8').replace(/(<Path name="app"[^>]*\/>)/, `$1\r\n                ${theirs}`)
    fs.writeFileSync(configPath, text)
    await leave()
    const after = fs.readFileSync(configPath, 'utf8')
    expect(after).toContain(theirs)
    expect(ourParts(after, newHost).hosts).toHaveLength(1)
    expect(ourParts(after, newHost).paths).toEqual([])
    expect(after).toBe(text.replace(/\r\n[ ]*<Path name="app"[^>]*\/>/, ''))
    expect(await spAccepts()).toBe(true)
  })

  test('an entry changed by hand since is left in place with a note', async () => {
    await shib(newHost)
    const text = fs.readFileSync(configPath, 'utf8').replace(/(<Path name="app" authType="shibboleth" requireSession=")true/, '$1false')
    fs.writeFileSync(configPath, text)
    expect((await leave()).changed).toBe(false)
    expect(fs.readFileSync(configPath, 'utf8')).toBe(text)
    expect(log.lines.join('\n')).toMatch(/Path 'app' was changed by hand since this action added it; left in place/)
  })

  test('a check that fails puts the file and the record back; restore() undoes a good removal', async () => {
    await shib(newHost)
    const withEntry = fs.readFileSync(configPath)
    const record = fs.readFileSync(path.join(deployRoot, SP_RECORD_FILE))
    const error = await leave({ check: ['false', '{config}'] }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(PhaseError)
    expect(fs.readFileSync(configPath).equals(withEntry)).toBe(true)
    expect(fs.readFileSync(path.join(deployRoot, SP_RECORD_FILE)).equals(record)).toBe(true)

    const left = await leave()
    expect(recorded()).toEqual([])
    await left.restore()
    expect(fs.readFileSync(configPath).equals(withEntry)).toBe(true)
    expect(recorded()).toHaveLength(1)
  })

  test('an SP config that is gone (SP uninstalled) is skipped with a note', async () => {
    await shib(newHost)
    fs.rmSync(configPath)
    const calls = netCalls()
    const left = await leave()
    expect(left.changed).toBe(false)
    expect(fs.existsSync(configPath)).toBe(false)
    expect(netCalls()).toEqual(calls)
    expect(log.lines.join('\n')).toMatch(/does not exist \(Shibboleth SP uninstalled\?\): nothing to remove/)
  })

  test('the plan lists the removal with its reason, and nothing once it is done', async () => {
    await shib(newHost)
    const out = path.join(dir, 'out')
    const target = { configPath, check: SHIBD_CHECK, service: 'shibd_Default', net, deployRoot, site: 'Default Web Site' }
    const plan = planLeaveShibboleth(target, out)
    expect(plan?.changed).toBe(true)
    const write = plan?.operations.find(op => op.argv[0] === 'write')
    expect(write?.why).toMatch(
      /^removed RequestMap Host 'example\.edu' Path 'app', which this action added \(auth is no longer shibboleth\)/
    )
    const steps = [...(plan?.operations ?? []), ...(plan?.recycleOperations ?? [])]
    expect(steps.map(op => op.argv.slice(0, 2).join(' '))).toEqual([
      `copy ${configPath}`,
      `write ${configPath}`,
      `shibd -t`,
      `${net} stop`,
      `${net} start`,
      'list apps',
      'recycle apppool'
    ])
    expect(steps.map(op => op.why).join('\n')).toContain('Host example.edu left the RequestMap')
    expect(plan?.diff).toMatch(/^-.*<Host name="example\.edu">/m)
    await leave()
    expect(planLeaveShibboleth(target, out)).toBeUndefined()
  })

  test('mode: plan with auth: anonymous puts the removal in plan.json and the log, and leaves the server file alone', async () => {
    await shib(newHost)
    const before = fs.readFileSync(configPath)
    const out = path.join(dir, 'plan-out')
    const values: Record<string, string> = {
      mode: 'plan',
      auth: 'anonymous',
      'app-dir': EXAMPLE_APP,
      'deploy-root': deployRoot,
      'app-path': '/app',
      'output-dir': out,
      python: '/usr/bin/python3',
      'shibboleth-config': configPath,
      'shibboleth-check': 'shibd -t -c {config}'
    }
    const failed: string[] = []
    await run({
      inputs: name => values[name] ?? '',
      env: {},
      cwd: EXAMPLE_APP,
      runner: execRunner,
      log,
      setOutput: () => {},
      summary: { addRaw: () => undefined, write: async () => undefined },
      setFailed: m => failed.push(m)
    })
    expect(failed).toEqual([])
    const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as {
      operations: { argv: string[]; why: string }[]
      shibboleth: { changed: boolean; diff: string }
    }
    expect(plan.operations.slice(0, 2).map(op => op.argv)).toEqual([
      ['copy', configPath, `${configPath}.<timestamp>.bak`],
      ['write', configPath]
    ])
    expect(plan.operations[1]?.why).toMatch(/removed RequestMap Host 'example\.edu' Path 'app', which this action added/)
    expect(plan.shibboleth.changed).toBe(true)
    expect(log.lines.join('\n')).toMatch(/why: removed RequestMap Host 'example\.edu' Path 'app'/)
    expect(fs.readFileSync(path.join(out, 'shibboleth2.xml')).equals(fs.readFileSync(path.join(FIXTURES, 'iis-bom-crlf.xml')))).toBe(true)
    expect(fs.readFileSync(configPath).equals(before)).toBe(true)
  })
})
