// `npm run docs`: everything generated from action.yml, the README tables and src/inputs/defaults.ts.
// `--check` writes nothing and exits 1 when either is stale.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
let status = 0
for (const script of ['readme-inputs.mjs', 'input-defaults.mjs']) {
  const run = spawnSync(process.execPath, [join(here, script), ...process.argv.slice(2)], { stdio: 'inherit' })
  if (run.status !== 0) status = run.status ?? 1
}
process.exit(status)
