import fs from 'node:fs'
import path from 'node:path'
import { processAlive } from './iis/lock.js'

/**
 * Old releases and venvs are renamed to a dot-folder before they are deleted. A delete that stops half-way (a file
 * held open: since unchanged static files are hard links, a file the live release serves is also a file of every
 * older release) would otherwise leave a folder whose release.json or venv marker still reads as whole, and a later
 * run could reuse it. A dot-folder is never a release (src/releases.ts) nor a venv; a later prune finishes it.
 */
const PREFIX = '.pruning-'

/**
 * What became of one folder: `gone` unless it could not be renamed (then it is whole, as it was); `left` says in one
 * line what stays on disk for a later run, when anything does.
 */
export interface Discarded {
  gone: boolean
  left?: string
}

function why(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  return e.code ? `${e.code}: ${e.message}` : String(error)
}

/** Renames dir out of the way, then deletes it with remove. */
export function discardDir(dir: string, remove: (dir: string) => void): Discarded {
  const trash = path.join(path.dirname(dir), `${PREFIX}pid${process.pid}-${path.basename(dir)}`)
  try {
    fs.renameSync(dir, trash)
  } catch (error) {
    // Never made (a stage that failed before its folder existed), or gone already: nothing to remove.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { gone: true }
    return { gone: false, left: `${dir} could not be removed (${why(error)}); a later run removes it` }
  }
  try {
    remove(trash)
    return { gone: true }
  } catch (error) {
    return { gone: true, left: `${trash}, once ${dir}, is left over (${why(error)}); a later run removes it` }
  }
}

/** Deletes what earlier prunes renamed and could not finish (a live run's own are its work in progress). */
export function removeDiscarded(parent: string, remove: (dir: string) => void): string[] {
  let names: string[] = []
  try {
    names = fs.readdirSync(parent).filter(n => n.startsWith(PREFIX))
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const pid = Number(/^\.pruning-pid(\d+)-/.exec(name)?.[1])
    if (pid > 0 && pid !== process.pid && processAlive(pid)) continue
    try {
      remove(path.join(parent, name))
      removed.push(name)
    } catch {
      // Still held: the next prune tries again.
    }
  }
  return removed
}
