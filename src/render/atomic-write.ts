import fs from 'node:fs'
import path from 'node:path'

/** The temp file a write of `file` goes through: beside it, so the rename stays on one volume. */
const tempFor = (file: string): string => path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`)

/**
 * The temp files that writes of `file` left beside it: a process killed between opening one and its rename cannot
 * remove it. Only the caller knows that no writer of `file` is still running.
 */
export function leftoverTempsOf(file: string): string[] {
  const dir = path.dirname(file)
  const prefix = `.${path.basename(file)}.`
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  return names.filter(n => n.startsWith(prefix) && /^\d+\.\d+\.tmp$/.test(n.slice(prefix.length))).map(n => path.join(dir, n))
}

/**
 * Writes via a temp file in the same folder and a rename, so IIS (which watches web.config) or a concurrent reader
 * sees the old file or the new one, never half of one. Returns false when the content was already there. With
 * `fsync`, the data is flushed before the rename, so a power loss leaves the old file or the new one.
 */
export function writeFileAtomic(file: string, content: string | Buffer, opts: { fsync?: boolean } = {}): boolean {
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
  if (fs.existsSync(file) && fs.readFileSync(file).equals(data)) return false
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const temp = tempFor(file)
  try {
    if (opts.fsync) {
      // A record a crash must not lose (the run journal): the bytes reach the disk before the rename names them.
      const fd = fs.openSync(temp, 'w')
      try {
        fs.writeSync(fd, data)
        fs.fsyncSync(fd)
      } finally {
        fs.closeSync(fd)
      }
    } else fs.writeFileSync(temp, data)
    fs.renameSync(temp, file)
  } finally {
    fs.rmSync(temp, { force: true })
  }
  return true
}

/**
 * writeFileAtomic for content made piece by piece, such as the file list of a 50,000-file project: the pieces go to
 * the temp file in 64 KB writes, so the whole text is never held in memory at once (npm run bench, memory rows).
 */
export function writeChunksAtomic(file: string, chunks: Iterable<string>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const temp = tempFor(file)
  try {
    const fd = fs.openSync(temp, 'w')
    try {
      let pending = ''
      for (const chunk of chunks) {
        pending += chunk
        if (pending.length >= 65536) {
          fs.writeSync(fd, pending)
          pending = ''
        }
      }
      fs.writeSync(fd, pending)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temp, file)
  } finally {
    fs.rmSync(temp, { force: true })
  }
}

/** The text of JSON.stringify on an object with these entries, piece by piece (keys in the order given). */
export function* jsonObjectChunks(entries: Iterable<readonly [string, unknown]>): Generator<string> {
  yield '{'
  let first = true
  for (const [key, value] of entries) {
    yield `${first ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(value)}`
    first = false
  }
  yield '}'
}
