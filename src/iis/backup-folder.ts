/**
 * IIS keeps each configuration backup as a folder named after it in %windir%\System32\inetsrv\backup, the `backup`
 * folder beside appcmd.exe, and removing a backup deletes that folder (docs/windows-facts.md, ac-backup-folder).
 * Deleting our old backups' folders directly saves an appcmd call per deploy once keep-backups is reached.
 */
import fs from 'node:fs'
import path from 'node:path'
import { samePath } from '../windows-path.js'
import { BACKUP_PREFIX } from './backup.js'

/** What a backup holds (ac-backup): a folder without it is not one, and is never deleted as one. */
const BACKUP_MARKER = 'applicationHost.config'

const isFile = (p: string): boolean => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false

/**
 * appcmd as the runner finds it (@actions/io's which): the path as given or the first match on PATH, and on Windows
 * only with an extension PATHEXT names, tried after the name as given.
 */
function resolveProgram(program: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  const exts = platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean) : []
  const executable = (candidate: string): boolean =>
    platform !== 'win32' || exts.some(ext => candidate.toLowerCase().endsWith(ext.toLowerCase()))
  const first = (base: string): string | undefined =>
    [base, ...exts.map(ext => base + ext)].find(candidate => executable(candidate) && isFile(candidate))
  if (path.isAbsolute(program)) return first(program)
  if (program.includes('/') || program.includes('\\')) return undefined
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const found = dir ? first(path.join(dir, program)) : undefined
    if (found) return found
  }
  return undefined
}

/**
 * The folders of our backups that exist as IIS keeps them, by backup name; a backup not found there is left out
 * (pruning then runs appcmd delete backup). On Windows the folder must be %windir%\System32\inetsrv\backup itself.
 */
export function backupFoldersOf(
  appcmd: string,
  names: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform
): Map<string, string> {
  const found = new Map<string, string>()
  const program = resolveProgram(appcmd, env, platform)
  if (!program) return found
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
