/**
 * IIS keeps each configuration backup as a folder named after it in %windir%\System32\inetsrv\backup, the `backup`
 * folder beside appcmd.exe, and removing a backup deletes that folder (docs/windows-facts.md, ac-backup-folder).
 * Deleting our old backups' folders directly saves an appcmd call per deploy once keep-backups is reached.
 */
import * as io from '@actions/io'
import fs from 'node:fs'
import path from 'node:path'
import { samePath } from '../windows-path.js'
import { BACKUP_PREFIX } from './backup.js'

/** What a backup holds (ac-backup): a folder without it is not one, and is never deleted as one. */
const BACKUP_MARKER = 'applicationHost.config'

const isFile = (p: string): boolean => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false

/**
 * The folders of our backups that exist as IIS keeps them, by backup name, beside appcmd as the runner finds it
 * (@actions/io's which, as @actions/exec runs it); a backup not found there is left out (pruning then runs appcmd
 * delete backup).
 */
export async function findBackupFolders(appcmd: string, names: readonly string[]): Promise<Map<string, string>> {
  return names.length === 0 ? new Map() : backupFoldersOf(await io.which(appcmd), names)
}

/**
 * The same, given appcmd's full path as which found it ('' when it was not). On Windows the folder must be
 * %windir%\System32\inetsrv\backup itself.
 */
export function backupFoldersOf(
  program: string,
  names: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform
): Map<string, string> {
  const found = new Map<string, string>()
  if (!program || !path.isAbsolute(program)) return found
  const parent = path.join(path.dirname(program), 'backup')
  const windir = env.windir ?? env.SystemRoot
  if (platform === 'win32' && !(windir && samePath(parent, path.join(windir, 'System32', 'inetsrv', 'backup')))) return found
  for (const name of names) {
    // A name from the record is one folder's name: one holding a separator (a damaged record) is left to appcmd.
    if (/[\\/]/.test(name) || name === '..' || name === '.') continue
    const folder = path.join(parent, name)
    if (isFile(path.join(folder, BACKUP_MARKER))) found.set(name, folder)
  }
  return found
}

/**
 * Deletes one backup's folder: false when it was gone already. Only a folder of ours in a `backup` folder that holds
 * a backup is deleted, and its applicationHost.config goes last, so a delete stopped half-way leaves a backup that
 * appcmd still lists and a later prune removes.
 */
export function removeBackupFolder(folder: string): boolean {
  if (!fs.existsSync(folder)) return false
  const marker = path.join(folder, BACKUP_MARKER)
  const ours =
    path.basename(folder).toLowerCase().startsWith(BACKUP_PREFIX) && path.basename(path.dirname(folder)).toLowerCase() === 'backup'
  if (!ours || !isFile(marker)) {
    throw new Error(`${folder} is not an IIS backup of ours (an ${BACKUP_MARKER} in a folder of backups); left as it is`)
  }
  for (const entry of fs.readdirSync(folder)) {
    if (entry.toLowerCase() !== BACKUP_MARKER.toLowerCase()) fs.rmSync(path.join(folder, entry), { recursive: true })
  }
  fs.rmSync(marker)
  fs.rmdirSync(folder)
  return true
}
