// globalSetup of the smoke tier: its tests run dist/index.js, so they must run the bundle of this checkout's
// sources. A bundle built from other sources (by the hash scripts/source-hash.mjs computes) is rebuilt first.
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { distIsFresh } from './run-action.js'

export default function freshBundle(): void {
  if (distIsFresh()) return
  console.log('dist/ was bundled from other sources: running npm run bundle before the smoke tests')
  execFileSync('npm', ['run', 'bundle'], { cwd: path.join(import.meta.dirname, '..', '..'), stdio: 'inherit' })
  if (!distIsFresh()) throw new Error('npm run bundle left dist/ stale: check scripts/write-dist-package.mjs')
}
