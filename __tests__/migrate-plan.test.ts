/**
 * mode: plan lists the unapplied migrations from app-dir when this machine reaches the database, and says so in
 * one line, without failing, when it does not (or when Django cannot start here).
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { sqliteTables } from './support/migrate-deploy.js'
import { serverPerTest } from './support/server-per-test.js'
import { tempDir } from './support/temp-dir.js'

const start = serverPerTest('migrate-plan').start

describe('mode: plan and the unapplied migrations', () => {
  it('lists them against a reachable SQLite database without creating or changing it', async () => {
    const db = path.join(tempDir('migrate-plan-db'), 'db.sqlite3')
    const server = await start(`NOTES_SQLITE=${db}`)
    const project = server.project('v2', ['add-tag'])
    const fresh = await server.deploy(project, 'p1', { mode: 'plan' })
    expect(fresh.failures).toEqual([])
    // No file yet: listed from the code alone, and nothing is created where the settings point.
    expect(fresh.plan?.migrations).toMatchObject({ reachable: true, pending: ['notes.0001_initial', 'notes.0002_tag'] })
    expect(fs.existsSync(db)).toBe(false)

    expect((await server.deploy(server.project('v1'), 'r1', { migrate: 'true', 'verify-body': 'notes: 0' })).failures).toEqual([])
    const after = await server.deploy(project, 'p2', { mode: 'plan' })
    expect(after.failures).toEqual([])
    expect(after.plan?.migrations).toMatchObject({ migrate: false, reachable: true, pending: ['notes.0002_tag'] })
    expect(after.log.lines.find(l => l.startsWith('warning:') && l.includes('notes.0002_tag'))).toBeDefined()
    expect(sqliteTables(db)).not.toContain('notes_tag')
  })

  it('says in one line that the database was not reached, and the plan still succeeds', async () => {
    const socketDir = path.join(tempDir('migrate-plan-nodb'), 'no-server-here')
    const server = await start(`NOTES_PG_HOST=${socketDir}\nNOTES_PG_NAME=notes\nNOTES_PG_USER=nobody`)
    const r = await server.deploy(server.project('v1'), 'p1', { mode: 'plan' })
    expect(r.failures).toEqual([])
    const lines = r.log.lines.filter(l => l.includes('Unapplied migrations not listed'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^info: Unapplied migrations not listed: the database could not be reached from this machine \(OperationalError: /
    )
    expect(r.plan?.migrations).toMatchObject({ reachable: false, pending: [] })
  })
})
