/**
 * Read IIS beside the stage (issue 13, src/flow/iis-read.ts): with verify-url given, the release's Python starts
 * while IIS is read; with verify-url empty, the stage waits for the binding's Host. A read that refuses the target
 * still stops the run with nothing left behind: no venv built for it, no release kept. A no-op whose release is
 * already live lists no migrations; a reused release that is not live still does.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ProcessRunner } from '../src/process.js'
import { sandboxRunner } from './support/iis-sandbox.js'
import type { Deployed, TestServer } from './support/migrate-deploy.js'
import { serverPerTest } from './support/server-per-test.js'

const SITE_READ = 'list site Default Web Site /config /xml'
const NO_SITE = "IIS has no site named 'Default Web Site'"
// The fixture's page counts its notes: the table must exist for verify to pass.
const MIGRATED = { migrate: 'true', 'verify-body': 'notes: 0' }
const UNMIGRATED = { 'verify-body': 'notes: 0' }

/**
 * The sandbox answers appcmd's reads in this process, at once: this holds the site read's answer back until the
 * run starts another process (or 3 s pass, so a run that waits for the read still goes on).
 */
function holdingSiteRead(inner: ProcessRunner): ProcessRunner {
  let release: (() => void) | undefined
  return {
    async run(file, args, options) {
      release?.()
      const result = await inner.run(file, args, options)
      if (args.join(' ').endsWith(SITE_READ)) {
        await new Promise<void>(resolve => {
          release = resolve
          setTimeout(resolve, 3000)
        })
      }
      return result
    }
  }
}

const releaseCheck = (run: Deployed) => run.calls.find(c => c.args.some(a => a.endsWith('release_checks.py')))
const listing = (run: Deployed) => run.calls.find(c => c.args.some(a => a.endsWith('diis_migrations.py')))
const releasesOf = (server: TestServer) => fs.readdirSync(path.join(server.deployRoot, 'releases')).sort()

const newServer = serverPerTest('read-beside').start

describe('Read IIS beside the stage', () => {
  it('starts the release check while the site is still being read, and prints the read after the stage', async () => {
    const s = await newServer()
    expect((await s.deploy(s.project('v1'), 'r1', MIGRATED)).failures).toEqual([])
    const change = await s.deploy(s.project('v2', ['add-tag']), 'r2', MIGRATED, holdingSiteRead)
    expect(change.failures).toEqual([])
    expect(releaseCheck(change)?.runningAtStart.some(c => c.endsWith(SITE_READ))).toBe(true)
    // The read's own line waits for the stage, so it is printed after the release check's.
    const lines = change.log.lines
    const readLine = lines.findIndex(l => l.includes('appcmd list site'))
    const stageLine = lines.findIndex(l => l.includes('answered 200'))
    expect(stageLine).toBeGreaterThan(-1)
    expect(readLine).toBeGreaterThan(stageLine)
  })

  it('waits for the read when verify-url is empty: the preflight sends the Host of the binding', async () => {
    const s = await newServer()
    const run = await s.deploy(s.project('v1'), 'r1', { 'verify-url': '', 'verify-timeout': '1' }, holdingSiteRead)
    const check = releaseCheck(run)
    expect(check).toBeDefined()
    expect(check?.runningAtStart.some(c => c.endsWith(SITE_READ))).toBe(false)
  })

  it('refuses a missing site before a first deploy builds its venv', async () => {
    const s = await newServer()
    fs.mkdirSync(s.deployRoot, { recursive: true })
    await sandboxRunner(s.sandbox).run(s.sandbox.appcmdPath, ['delete', 'site', 'Default Web Site'])
    const run = await s.deploy(s.project('v1'), 'r1')
    expect(run.failures.join('\n')).toContain(NO_SITE)
    expect(run.calls.some(c => c.args.includes('venv'))).toBe(false)
    expect(fs.existsSync(path.join(s.deployRoot, 'venvs')) ? fs.readdirSync(path.join(s.deployRoot, 'venvs')) : []).toEqual([])
    expect(fs.existsSync(path.join(s.deployRoot, 'releases')) ? releasesOf(s) : []).toEqual([])
  })

  it('seeds no new shared path for a target the read refuses', async () => {
    const s = await newServer()
    expect((await s.deploy(s.project('v1'), 'r1', MIGRATED)).failures).toEqual([])
    await sandboxRunner(s.sandbox).run(s.sandbox.appcmdPath, ['delete', 'site', 'Default Web Site'])
    // The venv is there, but a shared folder to seed makes the stage wait for the read.
    const run = await s.deploy(s.project('v1'), 'r2', { ...MIGRATED, 'shared-dirs': 'uploads' })
    expect(run.failures.join('\n')).toContain(NO_SITE)
    expect(fs.existsSync(path.join(s.deployRoot, 'shared', 'uploads'))).toBe(false)
    expect(releasesOf(s)).toEqual(['r1'])
  })

  it('removes a release built beside a read that then refused the target', async () => {
    const s = await newServer()
    expect((await s.deploy(s.project('v1'), 'r1', MIGRATED)).failures).toEqual([])
    await sandboxRunner(s.sandbox).run(s.sandbox.appcmdPath, ['delete', 'site', 'Default Web Site'])
    const run = await s.deploy(s.project('v2', ['add-tag']), 'r2', MIGRATED, holdingSiteRead)
    expect(run.failures.join('\n')).toContain(NO_SITE)
    // The release was checked beside the read, then removed: nothing of r2 is left.
    expect(releaseCheck(run)).toBeDefined()
    expect(releasesOf(s)).toEqual(['r1'])
  })
})

describe('the migrations listing of a reused release', () => {
  it('is skipped when the release is the live one, and runs when it is not', async () => {
    const s = await newServer()
    const v1 = s.project('v1')
    expect((await s.deploy(v1, 'r1', MIGRATED)).failures).toEqual([])
    const noop = await s.deploy(v1, 'r2', UNMIGRATED)
    expect(noop.failures).toEqual([])
    expect(noop.outputs['changed']).toBe('false')
    expect(listing(noop)).toBeUndefined()
    expect(noop.log.lines).toContain('info: Unapplied migrations not listed: release r1 already serves, so no new code goes live.')
    expect(noop.plan?.migrations).toBeUndefined()
    // r3 goes live; going back to v1 reuses r1, which is not live: its migrations are listed again.
    expect((await s.deploy(s.project('v2', ['add-tag']), 'r3', MIGRATED)).failures).toEqual([])
    const back = await s.deploy(v1, 'r4', UNMIGRATED)
    expect(back.failures).toEqual([])
    expect(s.live()).toBe('r1')
    expect(listing(back)).toBeDefined()
    expect(back.plan?.migrations?.reachable).toBe(true)
  })

  it('in mode: stage on a deployed server, reuses the release without a call to appcmd', async () => {
    const s = await newServer()
    const v1 = s.project('v1')
    expect((await s.deploy(v1, 'r1', MIGRATED)).failures).toEqual([])
    const staged = await s.deploy(v1, 's1', { ...UNMIGRATED, mode: 'stage' })
    expect(staged.failures).toEqual([])
    expect(staged.calls.filter(c => c.file === s.sandbox.appcmdPath).map(c => c.args.join(' '))).toEqual([])
    // Stage mode reads no IIS, so it cannot tell that r1 serves: it lists the migrations.
    expect(listing(staged)).toBeDefined()
  })
})
