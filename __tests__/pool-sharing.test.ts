import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { InputError } from '../src/errors.js'
import { Appcmd } from '../src/iis/appcmd.js'
import { parseAppLines, refuseSharedPool } from '../src/iis/pool-sharing.js'
import { readState } from '../src/iis/state.js'
import { run, type RunDeps } from '../src/main.js'
import { captureLog } from './support/iis-test-log.js'
import { countingRunner } from './support/counting-runner.js'
import { createIisSandbox, sandboxRunner, type IisSandbox } from './support/iis-sandbox.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { tempDir } from './support/temp-dir.js'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'

const SITE = 'Default Web Site'
// The pool derived for /app (src/inputs/pool-name.ts).
const DERIVED = 'DefaultWebSite-app'

let sandbox: IisSandbox | undefined
afterEach(() => {
  sandbox?.cleanup()
  sandbox = undefined
})

async function appcmdOn(box: IisSandbox, ...argv: string[]): Promise<void> {
  const r = await sandboxRunner(box).run(box.appcmdPath, argv)
  expect(r.exitCode, r.stdout).toBe(0)
}

/** A server where another app already runs in the pool this app's name derives. */
async function serverWithOtherAppIn(pool: string): Promise<IisSandbox> {
  const box = createIisSandbox()
  await appcmdOn(box, 'add', 'apppool', `/name:${pool}`)
  await appcmdOn(box, 'add', 'app', `/site.name:${SITE}`, '/path:/other', `/physicalPath:${box.dir}`, `/applicationPool:${pool}`)
  box.resetCounters()
  return box
}

async function check(box: IisSandbox, appPoolGiven: boolean, appPath = '/app'): Promise<{ error?: unknown; reads: number }> {
  const appcmd = new Appcmd({ runner: sandboxRunner(box), log: captureLog(), path: box.appcmdPath })
  const query = { hosting: 'fastcgi' as const, pool: { name: DERIVED }, app: { site: SITE, path: appPath } }
  const current = await readState(appcmd, query, { handlersUnlocked: false, anonymousAsPool: false, httpPlatformNames: [] })
  const before = appcmd.reads
  try {
    await refuseSharedPool(appcmd, { appPool: DERIVED, appPoolGiven, siteName: SITE, appPath }, current)
    return { reads: appcmd.reads - before }
  } catch (error) {
    return { error, reads: appcmd.reads - before }
  }
}

describe('a derived pool that already serves another app', () => {
  it('is refused with one error naming app-pool, the other app and the fix, after one extra read', async () => {
    sandbox = await serverWithOtherAppIn(DERIVED)
    const { error, reads } = await check(sandbox, false)
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe('app-pool')
    expect((error as Error).message).toBe(
      `Input 'app-pool': the pool derived for ${SITE}/app, '${DERIVED}', already serves '${SITE}/other'; set app-pool to a pool name of this app's own, or to '${DERIVED}' to share that pool on purpose`
    )
    expect(reads).toBe(1)
    expect(sandbox.calls().at(-1)?.argv).toEqual(['list', 'apps', `/apppool.name:${DERIVED}`])
    expect(sandbox.mutatingCalls()).toEqual([])
  })

  it('is taken as meant when app-pool names it: no error and no extra read', async () => {
    sandbox = await serverWithOtherAppIn(DERIVED)
    expect(await check(sandbox, true)).toEqual({ reads: 0 })
  })

  it('costs no read when the pool does not exist, or when the app already runs in it', async () => {
    sandbox = createIisSandbox()
    expect(await check(sandbox, false)).toEqual({ reads: 0 })
    await appcmdOn(sandbox, 'add', 'apppool', `/name:${DERIVED}`)
    await appcmdOn(sandbox, 'add', 'app', `/site.name:${SITE}`, '/path:/app', `/physicalPath:${sandbox.dir}`, `/applicationPool:${DERIVED}`)
    // Another app joining later is this app's own pool's business: its own run is the one refused.
    await appcmdOn(
      sandbox,
      'add',
      'app',
      `/site.name:${SITE}`,
      '/path:/other',
      `/physicalPath:${sandbox.dir}`,
      `/applicationPool:${DERIVED}`
    )
    expect(await check(sandbox, false)).toEqual({ reads: 0 })
  })

  it('lets the app into a pool that exists but serves no app (an empty listing is no error)', async () => {
    sandbox = createIisSandbox()
    await appcmdOn(sandbox, 'add', 'apppool', `/name:${DERIVED}`)
    sandbox.resetCounters()
    expect(await check(sandbox, false)).toEqual({ reads: 1 })
  })

  it('reads the pool of each listed app, so an appcmd that ignored the filter refuses nothing it should not', () => {
    const listing = `APP "${SITE}/" (applicationPool:DefaultAppPool)\r\nAPP "${SITE}/x" (applicationPool:Pool (with) parens)\r\n`
    expect(parseAppLines(listing)).toEqual([
      { name: `${SITE}/`, pool: 'DefaultAppPool' },
      { name: `${SITE}/x`, pool: 'Pool (with) parens' }
    ])
  })

  it('stops a deploy run before staging or any appcmd write, with one error line', async () => {
    sandbox = await serverWithOtherAppIn(DERIVED)
    const tmp = tempDir('pool-sharing')
    const deployRoot = path.join(tmp, 'deploy-root')
    const inputs: Record<string, string> = {
      mode: 'deploy',
      'app-dir': EXAMPLE_APP,
      'deploy-root': deployRoot,
      'app-path': '/app',
      python: SYSTEM_PYTHON,
      appcmd: sandbox.appcmdPath,
      icacls: sandbox.icaclsPath,
      'output-dir': path.join(tmp, 'out'),
      'lock-dir': path.join(tmp, 'server-lock')
    }
    const failures: string[] = []
    const deps: RunDeps = {
      inputs: name => inputs[name] ?? '',
      env: { ...sandbox.env, PATH: `${sandbox.env.PATH ?? ''}${path.delimiter}${process.env.PATH ?? ''}` },
      cwd: tmp,
      runner: countingRunner(sandboxRunner(sandbox)),
      log: captureLog(),
      setOutput: () => undefined,
      summary: { addRaw: () => undefined, write: async () => undefined },
      setFailed: message => failures.push(message)
    }
    try {
      await run(deps)
      expect(failures).toHaveLength(1)
      expect(failures[0]).toMatch(
        /^Input 'app-pool': the pool derived for Default Web Site\/app, 'DefaultWebSite-app', already serves 'Default Web Site\/other'; set app-pool/
      )
      expect(sandbox.mutatingCalls()).toEqual([])
      expect(fs.existsSync(path.join(deployRoot, 'releases'))).toBe(false)
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  })
})
