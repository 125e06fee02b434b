/** The job summary's Database section: what migrate applied, what reverses it, what a rollback restored. */
import type { DatabaseChange } from './run.js'

export function databaseSection(
  change: DatabaseChange | undefined,
  code: (text: string) => string,
  cell: (text: string) => string
): string[] {
  if (!change || (change.applied.length === 0 && change.commands.length === 0 && !change.sqliteBackup)) return []
  const out = ['### Database', '']
  if (change.applied.length > 0) {
    out.push(`Migrations this run applied: ${change.applied.map(code).join(', ')}`, '')
    if (change.sqliteBackup) {
      out.push(
        change.restored
          ? `The SQLite database ${code(change.sqliteBackup.file)} was restored from ${code(change.sqliteBackup.backup)}, the copy taken before migrate.`
          : `The SQLite database was copied to ${code(change.sqliteBackup.backup)} before migrate.`,
        ''
      )
    }
    if (!change.restored) {
      // Django reverses a migration only if it is reversible; the action never runs these itself.
      out.push('To reverse them (in this order, with the previous release live):', '', '```', ...change.reverse.map(cell), '```', '')
    }
  }
  if (change.commands.length > 0) out.push(`Release commands run: ${change.commands.map(code).join(', ')}`, '')
  return out
}
