/**
 * migrate and release-commands on SQLite, deployed in process with a real venv and Django and verified through the
 * IIS stand-in: migrations run before the switch, unapplied ones are listed without migrate, a failed verify puts
 * the pre-migrate database back, and release commands run or stop the run with IIS untouched.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { layoutFor } from '../src/layout.js'
import { readRelease } from '../src/releases.js'
import { NOTES_SECRET, sqliteQuery, sqliteTables, type TestServer } from './support/migrate-deploy.js'
import { backupsOf } from './support/iis-sandbox.js'
import { serverPerTest } from './support/server-per-test.js'
import { tempDir } from './support/temp-dir.js'

const start = serverPerTest('migrate').start

/** A server whose app keeps its SQLite file outside the releases, as deploy-root/shared would. */
async function sqliteServer(): Promise<{ server: TestServer; db: string }> {
  const dir = tempDir('migrate-sqlite-db')
  const db = path.join(dir, 'shared', 'db.sqlite3')
  fs.mkdirSync(path.dirname(db), { recursive: true })
  return { server: await start(`NOTES_SQLITE=${db}`), db }
}

const BROKEN_PAGE = `from django.http import HttpResponse
from django.urls import path


def index(request):
    return HttpResponse('broken release', status=500)


def health(request):
    return HttpResponse('ok')


urlpatterns = [path('', index), path('health', health)]
`

describe('migrate on SQLite', () => {
  it('migrates before the switch, lists unapplied migrations without migrate, and records what it applied', async () => {
    const { server: s, db } = await sqliteServer()
    const first = await s.deploy(s.project('v1'), 'r1', { migrate: 'true', 'verify-body': 'notes: 0' })
    expect(first.failures, first.log.lines.join('\n')).toEqual([])
    expect(sqliteTables(db)).toContain('notes_note')
    expect(first.log.lines).toContain('group: manage.py migrate --noinput')
    expect(first.plan?.migrations).toMatchObject({ migrate: true, reachable: true, pending: ['notes.0001_initial'] })
    expect(first.summary).toContain('Migrations this run applied: `notes.0001_initial`')
    expect(first.summary).toContain('python manage.py migrate notes zero')
    const r1 = readRelease(layoutFor(s.deployRoot), 'r1')
    expect(r1).toMatchObject({
      migrationsApplied: true,
      migrations: { applied: ['notes.0001_initial'], reverse: ['python manage.py migrate notes zero'] }
    })

    // The new model without migrate: the plan and the summary warn, and nothing touches the schema.
    const v2 = s.project('v2', ['add-tag'])
    const second = await s.deploy(v2, 'r2', { 'verify-body': 'notes: 0' })
    expect(second.failures).toEqual([])
    expect(second.plan?.migrations).toMatchObject({ migrate: false, reachable: true, pending: ['notes.0002_tag'] })
    const warning = second.log.lines.find(l => l.startsWith('warning:') && l.includes('notes.0002_tag'))
    expect(warning).toContain('unapplied migration(s)')
    expect(second.summary).toMatch(/Warning:\*\* 1 unapplied migration\(s\).*notes\.0002_tag/)
    expect(sqliteTables(db)).not.toContain('notes_tag')

    const third = await s.deploy(v2, 'r3', { migrate: 'true', 'verify-body': 'notes: 0' })
    expect(third.failures).toEqual([])
    expect(sqliteTables(db)).toContain('notes_tag')
    expect(third.summary).toContain('python manage.py migrate notes 0001_initial')
    // The copy taken before migrate is under deploy-root, never in a release folder IIS serves.
    const backup = path.join(s.deployRoot, 'db-backups', 'before-r3.sqlite3')
    expect(sqliteTables(backup)).toContain('notes_note')
    expect(sqliteTables(backup)).not.toContain('notes_tag')
    for (const r of [first, second, third]) expect(r.log.lines.join('\n')).not.toContain(NOTES_SECRET)
  })

  it('puts the pre-migrate database back when verify fails and the deploy rolls back', async () => {
    const { server: s, db } = await sqliteServer()
    expect((await s.deploy(s.project('v1'), 'r1', { migrate: 'true', 'verify-body': 'notes:' })).failures).toEqual([])
    const MIGRATIONS = "select app || '.' || name from django_migrations where app = 'notes' order by id"
    expect(sqliteQuery(db, "insert into notes_note (text) values ('written before r2') returning id")).toEqual(['1'])
    const before = sqliteQuery(db, MIGRATIONS)
    expect(before).toEqual(['notes.0001_initial'])
    s.sandbox.resetCounters()

    const bad = s.project('bad', ['add-tag'], { 'site_conf/urls.py': BROKEN_PAGE })
    // The check after the switch, so the release goes live first and the rollback puts the database back.
    const r = await s.deploy(bad, 'r2', { migrate: 'true', 'verify-body': 'notes:', 'verify-before-switch': 'false' })
    expect(r.failures).toHaveLength(1)
    expect(r.failures[0]).toMatch(/^verify failed/)
    expect(r.failures[0]).toContain(`SQLite database ${db} (restored from`)
    expect(r.outputs['rolled-back']).toBe('true')
    expect(s.live()).toBe('r1')
    // migrate did run (the release was switched to), and the rollback undid it.
    expect(r.log.lines).toContain('info: Applied 1: notes.0002_tag')
    expect(sqliteTables(db)).not.toContain('notes_tag')
    expect(sqliteQuery(db, MIGRATIONS)).toEqual(before)
    expect(sqliteQuery(db, 'select text from notes_note')).toEqual(['written before r2'])
    expect(r.summary).toContain('was restored from')
  })

  it('puts the pre-migrate database back when the check before the switch fails', async () => {
    const { server: s, db } = await sqliteServer()
    expect((await s.deploy(s.project('v1'), 'r1', { migrate: 'true', 'verify-body': 'notes:' })).failures).toEqual([])
    expect(sqliteQuery(db, "insert into notes_note (text) values ('written before r2') returning id")).toEqual(['1'])
    s.sandbox.resetCounters()

    const bad = s.project('bad', ['add-tag'], { 'site_conf/urls.py': BROKEN_PAGE })
    const r = await s.deploy(bad, 'r2', { migrate: 'true', 'verify-body': 'notes:' })
    expect(r.failures).toHaveLength(1)
    expect(r.failures[0]).toContain('before the switch')
    expect(r.log.lines).toContain('info: Applied 1: notes.0002_tag')
    expect(r.log.lines.some(l => l.startsWith(`info: Restored: SQLite database ${db}`))).toBe(true)
    // r1 served throughout, and finds its own schema again.
    expect(s.live()).toBe('r1')
    expect(
      s.sandbox
        .mutatingCalls()
        .map(c => c.argv.join(' '))
        .filter(w => /^set vdir .*\/notes\//.test(w))
    ).toEqual([])
    expect(sqliteTables(db)).not.toContain('notes_tag')
    expect(sqliteQuery(db, 'select text from notes_note')).toEqual(['written before r2'])
  })

  it('puts the pre-migrate database back when apply fails and restores IIS from its backup', async () => {
    const { server: s, db } = await sqliteServer()
    expect((await s.deploy(s.project('v1'), 'r1', { migrate: 'true', 'verify-body': 'notes: 0' })).failures).toEqual([])
    s.sandbox.resetCounters()
    // The first write is the backup; the second changes IIS and fails, so apply restores the backup.
    s.sandbox.failAt(2)
    const r = await s.deploy(s.project('v2', ['add-tag']), 'r2', { migrate: 'true', 'verify-body': 'notes: 0' })
    s.sandbox.failAt(undefined)
    expect(r.failures).toHaveLength(1)
    expect(r.failures[0]).toMatch(/^apply failed at step/)
    expect(r.log.lines).toContain('info: Applied 1: notes.0002_tag')
    expect(r.log.lines.some(l => l.startsWith(`info: Restored: SQLite database ${db}`))).toBe(true)
    expect(s.live()).toBe('r1')
    expect(sqliteTables(db)).not.toContain('notes_tag')
  })

  it('runs release commands after migrate, each in its own group, and stops on a failing one with IIS untouched', async () => {
    const { server: s, db } = await sqliteServer()
    const ok = await s.deploy(s.project('v1'), 'r1', {
      migrate: 'true',
      'release-commands': 'createcachetable\npython manage.py check --fail-level ERROR',
      'verify-body': 'notes: 0'
    })
    expect(ok.failures).toEqual([])
    expect(sqliteTables(db)).toContain('notes_cache')
    const groups = ok.log.lines.filter(l => l.startsWith('group: manage.py'))
    expect(groups).toEqual([
      'group: manage.py migrate --noinput',
      'group: manage.py createcachetable',
      'group: manage.py check --fail-level ERROR'
    ])
    expect(ok.summary).toContain('Release commands run: `createcachetable`, `check --fail-level ERROR`')

    const iisBefore = { config: s.sandbox.readConfig(), backups: backupsOf(s.sandbox) }
    s.sandbox.resetCounters()
    const failing = await s.deploy(s.project('v2', ['add-tag']), 'r2', {
      migrate: 'true',
      'release-commands': 'loaddata no-such-fixture',
      'verify-body': 'notes: 0'
    })
    expect(failing.failures).toHaveLength(1)
    expect(failing.failures[0]).toMatch(/^release command 'loaddata no-such-fixture' failed \(exit 1\); the release was not switched to\./)
    expect(failing.failures[0]).toContain("No fixture named 'no-such-fixture' found")
    expect(failing.log.lines).toContain('group: manage.py loaddata no-such-fixture')
    // The restore point taken beside the release check is deleted again: IIS is as it was.
    expect(s.sandbox.mutatingCalls().map(c => c.argv.slice(0, 2).join(' '))).toEqual(['add backup', 'delete backup'])
    expect(s.sandbox.changingCalls()).toEqual([])
    expect({ config: s.sandbox.readConfig(), backups: backupsOf(s.sandbox) }).toEqual(iisBefore)
    expect(s.live()).toBe('r1')
    // The migration that ran before the failing command is undone: the old release finds its schema.
    expect(sqliteTables(db)).not.toContain('notes_tag')
  })
})
