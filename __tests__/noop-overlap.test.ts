/**
 * A no-op re-run (issue 13) with migrate on: the reused release still lists its unapplied migrations (one Python
 * start) and reads the fastCgi section (the drift check); neither needs the other, so the read runs while Python
 * does. (With migrate off, the live release lists nothing: __tests__/read-beside-stage.test.ts.)
 */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { serverPerTest } from './support/server-per-test.js'
import { tempDir } from './support/temp-dir.js'

const FASTCGI_READ = 'list config -section:system.webServer/fastCgi /xml'

const start = serverPerTest('noop-overlap').start

describe('a no-op re-run', () => {
  it('reads the fastCgi section while the migrations are listed, and still reports both', async () => {
    const db = path.join(tempDir('noop-overlap-db'), 'db.sqlite3')
    const server = await start(`NOTES_SQLITE=${db}`)
    const project = server.project('v1')
    const inputs = { migrate: 'true', 'verify-body': 'notes: 0' }
    expect((await server.deploy(project, 'r1', inputs)).failures).toEqual([])
    const again = await server.deploy(project, 'r2', inputs)
    expect(again.failures).toEqual([])
    expect(again.outputs['changed']).toBe('false')
    const read = again.calls.find(c => c.args.join(' ').endsWith(FASTCGI_READ))
    expect(read, 'the no-op reads the fastCgi section').toBeDefined()
    // The release's Python (under deploy-root's venvs) was still running when that read started.
    const venvs = path.join(server.deployRoot, 'venvs')
    expect(read?.runningAtStart.some(c => c.startsWith(venvs) && c.includes('diis_migrations.py'))).toBe(true)
    // The listing still reaches the report and the plan.
    expect(again.log.lines).toContain('info: No unapplied migrations.')
    expect(again.plan?.migrations).toMatchObject({ reachable: true, pending: [] })
  })
})
