// After ncc: dist/ is ESM (the sources are, and the bundle keeps their top-level await), and the files the code reads
// at run time ship beside it.
import fs from 'node:fs'
import path from 'node:path'
import { SOURCE_HASH_FILE, sourceHash } from './source-hash.mjs'

const root = path.resolve(import.meta.dirname, '..')
const dist = path.join(root, 'dist')

fs.writeFileSync(path.join(dist, 'package.json'), JSON.stringify({ type: 'module' }, null, 2) + '\n')

for (const [from, to] of [
  ['templates', 'templates'],
  [path.join('src', 'python', 'scripts'), 'python']
]) {
  const source = path.join(root, from)
  const target = path.join(dist, to)
  fs.rmSync(target, { recursive: true, force: true })
  if (!fs.existsSync(source)) continue
  fs.mkdirSync(target, { recursive: true })
  for (const name of fs.readdirSync(source).sort()) {
    if (name === '__pycache__') continue
    fs.copyFileSync(path.join(source, name), path.join(target, name))
  }
}

// Last, once dist/ is complete: tests that run the bundle compare it with the sources they see (see source-hash.mjs).
fs.writeFileSync(path.join(dist, SOURCE_HASH_FILE), sourceHash(root) + '\n')
