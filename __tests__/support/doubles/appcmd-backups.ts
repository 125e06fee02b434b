// `add/list/restore/delete backup`: a backup is a folder holding a copy of applicationHost.config, and the backups
// are the folders there (docs/windows-facts.md, ac-backup-folder; ac-deleted for the delete message).
import fs from 'node:fs'
import path from 'node:path'
import { EXIT, fail, identifierFrom, notFound, same, type Option } from './appcmd-args.js'
import { listObjects, type Answer, type IisObject } from './appcmd-objects.js'
import { loadDocument, writeAtomic, type StatePaths } from './appcmd-store.js'

function backupNames(paths: StatePaths): string[] {
  if (!fs.existsSync(paths.backups)) return []
  return fs
    .readdirSync(paths.backups, { withFileTypes: true })
    .filter(d => d.isDirectory() && fs.existsSync(path.join(paths.backups, d.name, 'applicationHost.config')))
    .map(d => d.name)
    .sort()
}
function findBackup(paths: StatePaths, name: string): string {
  const found = backupNames(paths).find(n => same(n, name))
  if (!found) notFound('BACKUP', name)
  return found as string
}
function timestampName(): string {
  const d = new Date()
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}T${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`
}

export function backupVerb(
  verb: string,
  paths: StatePaths,
  identifier: string | undefined,
  options: readonly Option[],
  missForm: string | undefined
): Answer {
  switch (verb) {
    case 'list': {
      let names = backupNames(paths)
      if (identifier !== undefined) names = [findBackup(paths, identifier)]
      const objects: IisObject[] = names.map(name => ({ type: 'BACKUP', name, props: { 'backup.name': name, name } }))
      return listObjects('BACKUP', objects, undefined, options, undefined, missForm)
    }
    case 'add': {
      const name = identifierFrom(identifier, options, 'name') ?? timestampName()
      if (backupNames(paths).some(n => same(n, name))) fail(EXIT.duplicate, `Failed to add duplicate collection element "${name}".`)
      loadDocument(paths) // creates the seed when no state exists yet, so a backup always has something to hold
      const folder = path.join(paths.backups, name)
      fs.mkdirSync(folder, { recursive: true })
      fs.copyFileSync(paths.config, path.join(folder, 'applicationHost.config'))
      return { stdout: `BACKUP object "${name}" added\n`, exitCode: EXIT.ok }
    }
    case 'restore': {
      const name = findBackup(paths, identifierFrom(identifier, options, 'backup.name', 'name') ?? '')
      writeAtomic(paths.config, fs.readFileSync(path.join(paths.backups, name, 'applicationHost.config')))
      return { stdout: `Restored configuration from backup "${name}"\n`, exitCode: EXIT.ok }
    }
    case 'delete': {
      const name = findBackup(paths, identifierFrom(identifier, options, 'backup.name', 'name') ?? '')
      fs.rmSync(path.join(paths.backups, name), { recursive: true, force: true })
      return { stdout: `BACKUP object "${name}" deleted\n`, exitCode: EXIT.ok }
    }
  }
  return fail(EXIT.invalidParameter, `appcmd double: "${verb} backup" is not supported.`)
}
