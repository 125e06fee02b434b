/**
 * How Windows compares paths: either separator, repeated separators, `.` and `..` segments and a trailing
 * separator fold away (path.win32.normalize), and case does not matter (NTFS and IIS look paths up
 * case-insensitively). The one comparison every module uses, so that 'C:/x' and 'C:\x' are the same folder.
 */
import path from 'node:path'

function folded(p: string): string {
  if (p === '') return ''
  return path.win32
    .normalize(p)
    .replace(/(?<=[^:\\])\\+$/, '')
    .toLowerCase()
}

/** The same file or folder on Windows; an undefined or empty path is the same as nothing else. */
export function samePath(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false
  return folded(a) === folded(b)
}

/** `p` lies strictly inside `folder` (not the folder itself). */
export function insideFolder(folder: string, p: string): boolean {
  if (!folder || !p) return false
  const base = folded(folder).replace(/\\$/, '')
  const full = folded(p)
  return full.startsWith(`${base}\\`) && full.length > base.length + 1
}
