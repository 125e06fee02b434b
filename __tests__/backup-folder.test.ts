// Where IIS keeps a configuration backup (docs/windows-facts.md, ac-backup-folder): a folder named after it in the
// `backup` folder beside appcmd.exe, found from appcmd as the runner finds it, and deleted only when it holds one.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { backupFoldersOf, findBackupFolders, removeBackupFolder } from '../src/iis/backup-folder.js'

const OURS = 'django-iis-deploy-r1-20260101T000000000Z'
let dir: string | undefined
afterEach(() => {
  vi.unstubAllEnvs()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

/** windir/System32/inetsrv with appcmd and two folders in its backups: one a backup of ours, one no backup. */
function inetsrv(appcmdName = 'appcmd'): { windir: string; inetsrvDir: string; appcmd: string; backups: string } {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-folder-'))
  const windir = path.join(dir, 'Windows')
  const inetsrvDir = path.join(windir, 'System32', 'inetsrv')
  const backups = path.join(inetsrvDir, 'backup')
  fs.mkdirSync(path.join(backups, OURS, 'extra'), { recursive: true })
  fs.writeFileSync(path.join(backups, OURS, 'applicationHost.config'), '<configuration />')
  fs.writeFileSync(path.join(backups, OURS, 'administration.config'), '<configuration />')
  fs.mkdirSync(path.join(backups, 'django-iis-deploy-notes'))
  fs.writeFileSync(path.join(backups, 'django-iis-deploy-notes', 'notes.txt'), 'keep me')
  const appcmd = path.join(inetsrvDir, appcmdName)
  fs.writeFileSync(appcmd, '')
  return { windir, inetsrvDir, appcmd, backups }
}

describe('findBackupFolders', () => {
  it('finds the backups that exist as folders beside appcmd, given by its path or found on PATH as the runner finds it', async () => {
    const { inetsrvDir, appcmd, backups } = inetsrv()
    fs.chmodSync(appcmd, 0o755)
    const names = [OURS, 'django-iis-deploy-notes', 'gone']
    const expected = new Map([[OURS, path.join(backups, OURS)]])
    expect(await findBackupFolders(appcmd, names)).toEqual(expected)
    vi.stubEnv('PATH', [path.join(dir!, 'empty'), inetsrvDir].join(path.delimiter))
    expect(await findBackupFolders('appcmd', names)).toEqual(expected)
    // Not a program to the runner (not executable here): no folder is taken for its backups.
    fs.chmodSync(appcmd, 0o644)
    expect(await findBackupFolders('appcmd', names)).toEqual(new Map())
    vi.stubEnv('PATH', '')
    fs.chmodSync(appcmd, 0o755)
    expect(await findBackupFolders('appcmd', names)).toEqual(new Map())
  })
})

describe('backupFoldersOf', () => {
  it('on Windows, takes only %windir%\\System32\\inetsrv\\backup', () => {
    const { windir, appcmd, backups } = inetsrv('appcmd.exe')
    const expected = new Map([[OURS, path.join(backups, OURS)]])
    expect(backupFoldersOf(appcmd, [OURS], { windir }, 'win32')).toEqual(expected)
    expect(backupFoldersOf(appcmd, [OURS], { SystemRoot: windir }, 'win32')).toEqual(expected)
    // The same layout anywhere but under windir is not IIS's backup folder.
    expect(backupFoldersOf(appcmd, [OURS], { windir: path.join(dir!, 'Other') }, 'win32')).toEqual(new Map())
    expect(backupFoldersOf(appcmd, [OURS], {}, 'win32')).toEqual(new Map())
  })

  it('takes a name that is not one folder name (a damaged record) for none of its folders', () => {
    const { appcmd, backups } = inetsrv()
    fs.mkdirSync(path.join(backups, '..', 'config'), { recursive: true })
    fs.writeFileSync(path.join(backups, '..', 'config', 'applicationHost.config'), '<configuration />')
    fs.writeFileSync(path.join(backups, 'applicationHost.config'), '<configuration />')
    expect(backupFoldersOf(appcmd, ['../config', '..\\config', '.', OURS], {}, 'linux')).toEqual(
      new Map([[OURS, path.join(backups, OURS)]])
    )
  })

  it('finds none when appcmd was not found, or has no backup folder beside it', () => {
    const { inetsrvDir, appcmd } = inetsrv()
    expect(backupFoldersOf('', [OURS], {}, 'linux')).toEqual(new Map())
    expect(backupFoldersOf('appcmd', [OURS], {}, 'linux')).toEqual(new Map())
    fs.renameSync(path.join(inetsrvDir, 'backup'), path.join(inetsrvDir, 'elsewhere'))
    expect(backupFoldersOf(appcmd, [OURS], {}, 'linux')).toEqual(new Map())
  })
})

describe('removeBackupFolder', () => {
  it('deletes a backup of ours, says when it was gone already, and leaves any other folder', () => {
    const { backups, inetsrvDir } = inetsrv()
    expect(removeBackupFolder(path.join(backups, OURS))).toBe(true)
    expect(fs.existsSync(path.join(backups, OURS))).toBe(false)
    expect(removeBackupFolder(path.join(backups, OURS))).toBe(false)
    expect(() => removeBackupFolder(path.join(backups, 'django-iis-deploy-notes'))).toThrow(/is not an IIS backup of ours/)
    expect(fs.readFileSync(path.join(backups, 'django-iis-deploy-notes', 'notes.txt'), 'utf8')).toBe('keep me')
    // A folder holding an applicationHost.config that is not in a folder of backups, or not named as ours.
    const config = path.join(inetsrvDir, 'config')
    fs.mkdirSync(config)
    fs.writeFileSync(path.join(config, 'applicationHost.config'), 'live')
    expect(() => removeBackupFolder(config)).toThrow(/is not an IIS backup of ours/)
    const theirs = path.join(backups, 'before-upgrade')
    fs.mkdirSync(theirs)
    fs.writeFileSync(path.join(theirs, 'applicationHost.config'), 'theirs')
    expect(() => removeBackupFolder(theirs)).toThrow(/is not an IIS backup of ours/)
    expect(fs.readFileSync(path.join(config, 'applicationHost.config'), 'utf8')).toBe('live')
    expect(fs.readFileSync(path.join(theirs, 'applicationHost.config'), 'utf8')).toBe('theirs')
  })
})
