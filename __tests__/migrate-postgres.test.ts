/**
 * migrate on PostgreSQL (Debian's postgresql 15, a private server per file; Django's own backend through Debian's
 * python3-psycopg2): a deploy that adds a model migrates before the switch and records the reversing command, and a
 * failing migration stops the run with IIS untouched, the old release live and the migration's error in the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { layoutFor } from '../src/layout.js'
import { readRelease } from '../src/releases.js'
import type { TestServer } from './support/migrate-deploy.js'
import { backupsOf } from './support/iis-sandbox.js'
import { startPostgres, type PrivatePostgres } from './support/postgres.js'
import { serverPerTest } from './support/server-per-test.js'

let pg: PrivatePostgres | undefined
let databases = 0

beforeAll(() => {
  pg = startPostgres()
})
afterAll(() => pg?.stop())
const start = serverPerTest('migrate-pg').start

/** A server whose app uses a new, empty database on the private PostgreSQL. */
async function pgServer(): Promise<{ server: TestServer; name: string; tables: () => string[] }> {
  if (!pg) throw new Error('the private PostgreSQL did not start')
  const db = pg
  const name = `notes${++databases}`
  db.createDatabase(name)
  const env = [`NOTES_PG_HOST=${db.socketDir}`, `NOTES_PG_PORT=${db.port}`, `NOTES_PG_NAME=${name}`, `NOTES_PG_USER=${db.user}`].join('\n')
  const tables = (): string[] => db.sql(name, "select tablename from pg_tables where schemaname = 'public' order by 1").split('\n')
  return { server: await start(env), name, tables }
}

describe('migrate on PostgreSQL', () => {
  it('a deploy that adds a model migrates before the switch and lists the command that reverses it', async () => {
    const { server: s, tables } = await pgServer()
    const first = await s.deploy(s.project('v1'), 'r1', { migrate: 'true', 'verify-body': 'notes: 0' })
    expect(first.failures, first.log.lines.join('\n')).toEqual([])
    expect(tables()).toContain('notes_note')

    const second = await s.deploy(s.project('v2', ['add-tag']), 'r2', { migrate: 'true', 'verify-body': 'notes: 0' })
    expect(second.failures).toEqual([])
    expect(s.live()).toBe('r2')
    expect(tables()).toContain('notes_tag')
    expect(second.plan?.migrations).toMatchObject({ migrate: true, reachable: true, pending: ['notes.0002_tag'] })
    expect(second.summary).toContain('Migrations this run applied: `notes.0002_tag`')
    expect(second.summary).toContain('python manage.py migrate notes 0001_initial')
    // No file to copy: the action never reverses a server database itself.
    expect(second.summary).not.toContain('SQLite')
    expect(readRelease(layoutFor(s.deployRoot), 'r2')).toMatchObject({
      migrationsApplied: true,
      migrations: { applied: ['notes.0002_tag'], reverse: ['python manage.py migrate notes 0001_initial'] }
    })
  })

  it('a failing migration stops the run before the switch: IIS as it was, the old release live, its error shown', async () => {
    const { server: s, name } = await pgServer()
    expect((await s.deploy(s.project('v1'), 'r1', { migrate: 'true', 'verify-body': 'notes: 0' })).failures).toEqual([])
    const iisBefore = { config: s.sandbox.readConfig(), backups: backupsOf(s.sandbox) }
    s.sandbox.resetCounters()

    const r = await s.deploy(s.project('failing', ['failing']), 'r2', { migrate: 'true', 'verify-body': 'notes: 0' })
    expect(r.failures).toHaveLength(1)
    expect(r.failures[0]).toMatch(/^manage\.py migrate failed \(exit 1\); the release was not switched to\./)
    expect(r.failures[0]).toContain('RuntimeError: migration 0002_fails refuses on purpose')
    expect(r.failures[0]).toContain('Hint: fix the migration; the old release still serves')
    expect(r.log.lines).toContain('group: manage.py migrate --noinput')
    expect(r.log.lines.some(l => l.includes('Applying notes.0002_fails'))).toBe(true)
    // The restore point taken beside the release check is deleted again: IIS is as it was.
    expect(s.sandbox.mutatingCalls().map(c => c.argv.slice(0, 2).join(' '))).toEqual(['add backup', 'delete backup'])
    expect(s.sandbox.changingCalls()).toEqual([])
    expect({ config: s.sandbox.readConfig(), backups: backupsOf(s.sandbox) }).toEqual(iisBefore)
    expect(s.live()).toBe('r1')
    // The migration ran in a transaction: nothing of it stayed.
    expect(pg?.sql(name, "select count(*) from django_migrations where app = 'notes' and name = '0002_fails'")).toBe('0')
  })
})
