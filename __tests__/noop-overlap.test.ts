/**
 * A no-op re-run (issue 13): the reused release still lists its unapplied migrations (one Python start) and reads
 * the fastCgi section (the drift check); neither needs the other, so the read runs while Python does.
 */
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ProcessRunner } from '../src/process.js'
import { createTestServer, type TestServer } from './support/migrate-deploy.js'
import { tempDir } from './support/temp-dir.js'
import { buildWheelhouse } from './support/wheelhouse.js'

const FASTCGI_READ = 'list config -section:system.webServer/fastCgi /xml'

/**
 * The sandbox runs appcmd's double in this process, so its reads answer at once: this holds the fastCgi read's
 * answer back until the run starts another process (or 3 s pass, so a run that starts none still ends).
 */
function holdingFastCgiRead(inner: ProcessRunner): ProcessRunner {
  let release: (() => void) | undefined
  return {
    async run(file, args, options) {
      release?.()
      const result = await inner.run(file, args, options)
      if (args.join(' ').endsWith(FASTCGI_READ)) {
        await new Promise<void>(resolve => {
          release = resolve
          setTimeout(resolve, 3000)
        })
      }
      return result
    }
  }
}

let wheelhouse: string
let server: TestServer | undefined
beforeAll(async () => {
  wheelhouse = await buildWheelhouse(path.join(tempDir('noop-overlap-wheels'), 'wheelhouse'))
})
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('a no-op re-run', () => {
  it('reads the fastCgi section while the migrations are listed, and still reports both', async () => {
    const db = path.join(tempDir('noop-overlap-db'), 'db.sqlite3')
    server = await createTestServer(wheelhouse, `NOTES_SQLITE=${db}`)
    const project = server.project('v1')
    const inputs = { migrate: 'true', 'verify-body': 'notes: 0' }
    expect((await server.deploy(project, 'r1', inputs)).failures).toEqual([])
    const again = await server.deploy(project, 'r2', inputs, holdingFastCgiRead)
    expect(again.failures).toEqual([])
    expect(again.outputs['changed']).toBe('false')
    expect(
      again.calls.some(c => c.args.join(' ').endsWith(FASTCGI_READ)),
      'the no-op reads the fastCgi section'
    ).toBe(true)
    // The release's Python (under deploy-root's venvs) started while that read was still running.
    const listing = again.calls.find(c => c.file.startsWith(path.join(server!.deployRoot, 'venvs')))
    expect(listing?.runningAtStart.some(c => c.endsWith(FASTCGI_READ))).toBe(true)
    // The listing still reaches the report and the plan.
    expect(again.log.lines).toContain('info: No unapplied migrations.')
    expect(again.plan?.migrations).toMatchObject({ reachable: true, pending: [] })
  })
})
