import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { layoutFor } from '../src/layout.js'
import { backupPathFor, pruneSqliteBackups } from '../src/migrations/run.js'
import { tempDir } from './support/temp-dir.js'

describe('the SQLite copies migrate takes', () => {
  it('live in deploy-root/db-backups, outside every release folder IIS serves', () => {
    const layout = layoutFor('C:\\inetpub\\deploy\\app')
    expect(backupPathFor(layout, 'r7')).toBe('C:\\inetpub\\deploy\\app\\db-backups\\before-r7.sqlite3')
    expect(backupPathFor(layout, 'r7').startsWith(layout.releasesDir)).toBe(false)
  })

  it('are pruned to the newest keep-backups, never the one just taken, and nothing else in the folder', () => {
    const dir = path.join(tempDir('sqlite-backups'), 'db-backups')
    fs.mkdirSync(dir)
    const at = (name: string, minute: number): string => {
      const file = path.join(dir, name)
      fs.writeFileSync(file, name)
      fs.utimesSync(file, new Date(60_000 * minute), new Date(60_000 * minute))
      return file
    }
    const files = [1, 2, 3, 4].map(n => at(`before-r${n}.sqlite3`, n))
    const other = at('notes.txt', 0)
    const removed = pruneSqliteBackups(files[3] ?? '', 2)
    expect(removed.sort()).toEqual([files[0], files[1]])
    expect(fs.readdirSync(dir).sort()).toEqual(['before-r3.sqlite3', 'before-r4.sqlite3', path.basename(other)])
  })
})
