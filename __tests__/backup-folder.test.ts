// Where IIS keeps a configuration backup (docs/windows-facts.md, ac-backup-folder): a folder named after it in the
// `backup` folder beside appcmd.exe, found from appcmd as the runner finds it, and deleted only when it holds one.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { backupFoldersOf, removeBackupFolder } from '../src/iis/backup-folder.js'

let dir: string | undefined
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

/** An inetsrv folder with appcmd and two backup folders, one holding a backup and one not. */
function inetsrv(): { inetsrvDir: string; appcmd: string; backups: string } {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-folder-'))
  const inetsrvDir = path.join(dir, 'inetsrv')
  const backups = path.join(inetsrvDir, 'backup')
  fs.mkdirSync(path.join(backups, 'ours-1'), { recursive: true })
  fs.writeFileSync(path.join(backups, 'ours-1', 'applicationHost.config'), '<configuration />')
  fs.mkdirSync(path.join(backups, 'not-a-backup'))
  fs.writeFileSync(path.join(backups, 'not-a-backup', 'notes.txt'), 'keep me')
  const appcmd = path.join(inetsrvDir, 'appcmd')
  fs.writeFileSync(appcmd, '')
  return { inetsrvDir, appcmd, backups }
}

describe('backupFoldersOf', () => {
  it('finds the backups that exist as folders beside appcmd, given by path or found on PATH', () => {
    const { inetsrvDir, appcmd, backups } = inetsrv()
    const names = ['ours-1', 'not-a-backup', 'gone']
    const expected = new Map([['ours-1', path.join(backups, 'ours-1')]])
    expect(backupFoldersOf(appcmd, names, {})).toEqual(expected)
    expect(backupFoldersOf('appcmd', names, { PATH: [path.join(dir!, 'empty'), inetsrvDir].join(path.delimiter) })).toEqual(expected)
  })

  it('takes a name that is not one folder name (a damaged record) for none of its folders', () => {
    const { appcmd, backups } = inetsrv()
    fs.mkdirSync(path.join(backups, '..', 'config'), { recursive: true })
    fs.writeFileSync(path.join(backups, '..', 'config', 'applicationHost.config'), '<configuration />')
    expect(backupFoldersOf(appcmd, ['../config', '..\\config', 'ours-1'], {})).toEqual(new Map([['ours-1', path.join(backups, 'ours-1')]]))
  })

  it('finds none when appcmd is not found, or has no backup folder beside it', () => {
    const { inetsrvDir, appcmd } = inetsrv()
    expect(backupFoldersOf('appcmd', ['ours-1'], { PATH: '' })).toEqual(new Map())
    expect(backupFoldersOf(path.join(inetsrvDir, 'nosuch'), ['ours-1'], {})).toEqual(new Map())
    fs.renameSync(path.join(inetsrvDir, 'backup'), path.join(inetsrvDir, 'elsewhere'))
    expect(backupFoldersOf(appcmd, ['ours-1'], {})).toEqual(new Map())
  })
})

describe('removeBackupFolder', () => {
  it('deletes a backup, passes over one already gone, and leaves a folder that holds no backup', () => {
    const { backups } = inetsrv()
    removeBackupFolder(path.join(backups, 'ours-1'))
    expect(fs.existsSync(path.join(backups, 'ours-1'))).toBe(false)
    expect(() => removeBackupFolder(path.join(backups, 'ours-1'))).not.toThrow()
    expect(() => removeBackupFolder(path.join(backups, 'not-a-backup'))).toThrow(
      /holds no applicationHost\.config, so it is not an IIS backup/
    )
    expect(fs.readFileSync(path.join(backups, 'not-a-backup', 'notes.txt'), 'utf8')).toBe('keep me')
  })
})
