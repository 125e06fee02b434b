// The guard in run-action.ts: tests that run dist/index.js refuse a bundle built from other sources than the
// checkout's, by the hash npm run bundle records (scripts/write-dist-package.mjs), not by file times.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { SOURCE_HASH_FILE, sourceHash } from '../scripts/source-hash.mjs'
import { distIsFresh } from './support/run-action.js'
import { tempDir } from './support/temp-dir.js'

/** A checkout with sources and a dist/ bundled from them. */
function bundledCheckout(): string {
  const root = tempDir('dist-freshness')
  fs.mkdirSync(path.join(root, 'src', 'python', 'scripts'), { recursive: true })
  fs.mkdirSync(path.join(root, 'templates'))
  fs.mkdirSync(path.join(root, 'dist'))
  fs.writeFileSync(path.join(root, 'src', 'main.ts'), 'export const a = 1\n')
  fs.writeFileSync(path.join(root, 'src', 'python', 'scripts', 'preflight.py'), 'print(1)\n')
  fs.writeFileSync(path.join(root, 'templates', 'static-web.config.hbs'), '<configuration />\n')
  fs.writeFileSync(path.join(root, 'dist', SOURCE_HASH_FILE), sourceHash(root) + '\n')
  return root
}

describe('dist/ freshness', () => {
  it('takes a bundle of the same sources, whatever their file times and line endings', () => {
    const root = bundledCheckout()
    const file = path.join(root, 'src', 'main.ts')
    const past = new Date('2001-01-01T00:00:00Z')
    fs.utimesSync(path.join(root, 'dist', SOURCE_HASH_FILE), past, past)
    fs.writeFileSync(file, 'export const a = 1\r\n')
    fs.mkdirSync(path.join(root, 'src', 'python', 'scripts', '__pycache__'))
    fs.writeFileSync(path.join(root, 'src', 'python', 'scripts', '__pycache__', 'preflight.pyc'), 'bytecode')
    expect(distIsFresh(root)).toBe(true)
  })

  it('refuses a bundle once a source or template changes, or one that recorded no hash', () => {
    const edited = bundledCheckout()
    fs.writeFileSync(path.join(edited, 'src', 'main.ts'), 'export const a = 2\n')
    expect(distIsFresh(edited)).toBe(false)
    const template = bundledCheckout()
    fs.appendFileSync(path.join(template, 'templates', 'static-web.config.hbs'), '<!-- -->\n')
    expect(distIsFresh(template)).toBe(false)
    const added = bundledCheckout()
    fs.writeFileSync(path.join(added, 'src', 'new.ts'), '')
    expect(distIsFresh(added)).toBe(false)
    const old = bundledCheckout()
    fs.rmSync(path.join(old, 'dist', SOURCE_HASH_FILE))
    expect(distIsFresh(old)).toBe(false)
  })
})
