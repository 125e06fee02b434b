/**
 * IIS keeps each configuration backup as a folder named after it in %windir%\System32\inetsrv\backup, the folder
 * appcmd.exe itself is in, and removing a backup deletes that folder (docs/windows-facts.md, ac-backup-folder).
 * Deleting our old backups' folders directly saves an appcmd call per deploy once keep-backups is reached.
 */
import fs from 'node:fs'
import path from 'node:path'

/** What a backup holds (ac-backup): a folder without it is not one, and is never deleted as one. */
const BACKUP_MARKER = 'applicationHost.config'

/** appcmd as the runner finds it: the path as given, or the first match on PATH (with PATHEXT on Windows). */
function resolveProgram(program: string, env: NodeJS.ProcessEnv): string | undefined {
  if (path.isAbsolute(program)) return fs.existsSync(program) ? program : undefined
  if (program.includes('/') || program.includes('\\')) return undefined
  const exts = process.platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';')] : ['']
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    for (const ext of exts) {
      const candidate = path.join(dir, program + ext)
      if (fs.existsSync(candidate)) return candidate
    }
  }
  return undefined
}

/** The folders of our backups that exist as IIS keeps them, by backup name; a backup not found there is left out. */
export function backupFoldersOf(appcmd: string, names: readonly string[], env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const found = new Map<string, string>()
  const program = resolveProgram(appcmd, env)
  if (!program) return found
  const parent = path.join(path.dirname(program), 'backup')
  for (const name of names) {
    // A name from the record is one folder's name: one holding a separator (a damaged record) is left to appcmd.
    if (/[\\/]/.test(name) || name === '..') continue
    const folder = path.join(parent, name)
    if (fs.existsSync(path.join(folder, BACKUP_MARKER))) found.set(name, folder)
  }
  return found
}

/** Deletes one backup's folder; one already gone is fine, and a folder that holds no backup is left as it is. */
export function removeBackupFolder(folder: string): void {
  if (!fs.existsSync(folder)) return
  if (!fs.existsSync(path.join(folder, BACKUP_MARKER))) {
    throw new Error(`${folder} holds no ${BACKUP_MARKER}, so it is not an IIS backup; left as it is`)
  }
  fs.rmSync(folder, { recursive: true })
}
