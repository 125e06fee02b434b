import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { pendingGrants, prepareGrantFolders, recordGrants, runIcacls } from '../src/iis/acl.js'
import { Appcmd } from '../src/iis/appcmd.js'
import { addBackup, backupRecordFile, backupName, parseBackups, pruneBackups, restoreBackup } from '../src/iis/backup.js'
import type { ProcessRunner } from '../src/process.js'
import { createIisSandbox, sandboxRunner, type IisSandbox } from './support/iis-sandbox.js'
import { captureLog } from './support/iis-test-log.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

function sandbox(): { sb: IisSandbox; runner: ProcessRunner; root: string } {
  const sb = createIisSandbox()
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'acl-'))
  cleanups.push(
    () => sb.cleanup(),
    () => fs.rmSync(root, { recursive: true, force: true })
  )
  const runner = sandboxRunner(sb)
  return { sb, runner, root }
}

describe('ACL grants', () => {
  it('grants what is not recorded, records it, and skips it next time; creates WSGI_LOG', async () => {
    const { sb, runner, root } = sandbox()
    const app = path.join(root, 'releases', 'r1')
    fs.mkdirSync(app, { recursive: true })
    const wsgiLog = path.join(root, 'logs', 'wfastcgi.log')
    const grants = [
      { path: app, permission: '(OI)(CI)RX', why: 'code' },
      { path: path.join(root, 'logs'), permission: '(OI)(CI)M', why: 'logs' }
    ]
    const plan = pendingGrants(root, 'P', grants)
    // Planning alone writes nothing.
    expect(fs.existsSync(path.join(root, 'logs'))).toBe(false)
    prepareGrantFolders(root, grants, wsgiLog)
    expect(fs.readFileSync(wsgiLog, 'utf8')).toBe('')
    expect(plan.operations.map(o => o.argv)).toEqual([
      [app, '/grant:r', 'IIS AppPool\\P:(OI)(CI)RX', '/Q'],
      [path.join(root, 'logs'), '/grant:r', 'IIS AppPool\\P:(OI)(CI)M', '/Q']
    ])
    for (const op of plan.operations) await runIcacls(runner, captureLog(), sb.icaclsPath, op)
    recordGrants(root, plan.pending)
    expect(sb.aclGrants().map(g => [g.action, g.principal, g.perm])).toEqual([
      ['grant:r', 'IIS AppPool\\P', '(OI)(CI)RX'],
      ['grant:r', 'IIS AppPool\\P', '(OI)(CI)M']
    ])
    // Recorded: nothing to do; a changed permission or another pool is granted again.
    expect(pendingGrants(root, 'P', grants).operations).toEqual([])
    expect(pendingGrants(root, 'P', [{ ...grants[0], permission: '(OI)(CI)M' }]).operations).toHaveLength(1)
    expect(pendingGrants(root, 'Q', grants).operations).toHaveLength(2)
    // An existing WSGI_LOG is left as it is.
    fs.writeFileSync(wsgiLog, 'kept')
    prepareGrantFolders(root, grants, wsgiLog)
    expect(fs.readFileSync(wsgiLog, 'utf8')).toBe('kept')
  })

  it('turns an icacls failure into a PhaseError naming the path', async () => {
    const { sb, runner, root } = sandbox()
    const missing = path.join(root, 'no-such-folder')
    const err = await runIcacls(runner, captureLog(), sb.icaclsPath, {
      tool: 'icacls',
      argv: [missing, '/grant:r', 'IIS AppPool\\P:(OI)(CI)RX', '/Q'],
      why: 'x',
      mutates: true
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PhaseError)
    expect((err as Error).message).toContain(missing)
    expect((err as Error).message).toMatch(/exit 2/)
  })
})

describe('backups', () => {
  it('names backups with our prefix, release id and a sortable stamp', () => {
    expect(backupName('42-1', new Date('2025-03-04T05:06:07.089Z'))).toBe('django-iis-deploy-42-1-20250304T050607089Z')
    expect(parseBackups('BACKUP "a"\nBACKUP "django-iis-deploy-1-20250101T000000000Z"\n')).toEqual([
      'a',
      'django-iis-deploy-1-20250101T000000000Z'
    ])
  })

  it('keeps the newest N of ours, never touches foreign backups, and restores', async () => {
    const { sb, runner } = sandbox()
    const log = captureLog()
    const appcmd = new Appcmd({ runner, log, path: sb.appcmdPath })
    await appcmd.run({ argv: ['add', 'backup', 'admin-before-upgrade'], mutates: true })
    const names: string[] = []
    for (let i = 0; i < 4; i++) names.push(await addBackup(appcmd, `r${i}`, new Date(Date.UTC(2025, 0, 1, 0, 0, i))))
    const removed = await pruneBackups(appcmd, 2, log)
    expect(removed.sort()).toEqual([names[0], names[1]].sort())
    expect(parseBackups(await appcmd.read('list', 'backups')).sort()).toEqual(['admin-before-upgrade', names[2], names[3]].sort())
    const before = sb.readConfig()
    await appcmd.run({ argv: ['add', 'apppool', '/name:Temp'], mutates: true })
    expect(sb.readConfig()).not.toBe(before)
    await restoreBackup(appcmd, names[3])
    expect(sb.readConfig()).toBe(before)
  })

  it('with a record, lists backups once, then only deletes the ones beyond keep', async () => {
    const { sb, runner, root } = sandbox()
    const log = captureLog()
    const lists: string[][] = []
    const counting: ProcessRunner = {
      run: (file, args, options) => {
        if (args[0] === 'list' && args[1] === 'backups') lists.push([...args])
        return runner.run(file, args, options)
      }
    }
    const appcmd = new Appcmd({ runner: counting, log, path: sb.appcmdPath })
    const file = backupRecordFile(root)
    await appcmd.run({ argv: ['add', 'backup', 'admin-before-upgrade'], mutates: true })
    const names: string[] = []
    const deploy = async (i: number): Promise<string[]> => {
      const added = await addBackup(appcmd, `r${i}`, new Date(Date.UTC(2025, 0, 1, 0, 0, i)))
      names.push(added)
      return pruneBackups(appcmd, 3, log, { file, added })
    }
    // No record yet: listed once, then recorded.
    expect(await deploy(0)).toEqual([])
    expect(lists).toHaveLength(1)
    expect(await deploy(1)).toEqual([])
    expect(await deploy(2)).toEqual([])
    // The fourth of ours is one more than keep: the oldest goes, without a listing.
    expect(await deploy(3)).toEqual([names[0]])
    expect(await deploy(4)).toEqual([names[1]])
    expect(lists).toHaveLength(1)
    lists.length = 0
    expect(parseBackups(await appcmd.read('list', 'backups')).sort()).toEqual(['admin-before-upgrade', ...names.slice(2)].sort())
    // A damaged record lists again rather than trusting it.
    fs.writeFileSync(file, 'not json')
    lists.length = 0
    expect(await deploy(5)).toEqual([names[2]])
    expect(lists).toHaveLength(1)
    // A backup deleted behind the record's back: the delete fails, a warning, and the next run lists again.
    await appcmd.run({ argv: ['delete', 'backup', names[3]], mutates: true })
    lists.length = 0
    expect(await deploy(6)).toEqual([])
    expect(fs.existsSync(file)).toBe(false)
    expect(await deploy(7)).toEqual([names[4]])
    expect(lists).toHaveLength(1)
  })

  it('prunes nothing when no backups exist', async () => {
    const { sb, runner } = sandbox()
    const appcmd = new Appcmd({ runner, log: captureLog(), path: sb.appcmdPath })
    expect(await pruneBackups(appcmd, 1, captureLog())).toEqual([])
  })
})
