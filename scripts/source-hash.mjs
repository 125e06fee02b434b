// The hash of what dist/ is built from (src/ and templates/), recorded in dist/ at bundle time so that tests running
// dist/index.js can tell a stale bundle from a fresh one by content: a fresh clone's file times say nothing.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export const SOURCE_DIRS = ['src', 'templates']
export const SOURCE_HASH_FILE = 'source-hash.txt'

/** sha256 over each file's relative path and text, in path order; CRLF counts as LF, __pycache__ is left out. */
export function sourceHash(root) {
  const hash = crypto.createHash('sha256')
  for (const dir of SOURCE_DIRS) {
    const base = path.join(root, dir)
    if (!fs.existsSync(base)) continue
    const files = fs
      .readdirSync(base, { recursive: true, withFileTypes: true })
      .filter(e => e.isFile())
      .map(e => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .filter(rel => !rel.split('/').includes('__pycache__'))
      .sort()
    for (const rel of files) {
      const text = fs.readFileSync(path.join(root, rel)).toString('latin1').replace(/\r\n/g, '\n')
      hash.update(`${rel}\0${text.length}\0`).update(text, 'latin1')
    }
  }
  return hash.digest('hex')
}
