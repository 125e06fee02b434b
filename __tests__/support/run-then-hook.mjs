// Runs a program (the SP's real checker, net.exe's double) with the kill hook around it (kill-hook.mjs), as the
// doubles' shim does for appcmd and icacls. Usage: node run-then-hook.mjs <program> <argv...>
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterHookedCall, beforeHookedCall } from './kill-hook.mjs'

const [program, ...argv] = process.argv.slice(2)
if (beforeHookedCall(`${path.basename(program)} ${argv.join(' ')}`)) process.exit(137)
const result = spawnSync(program, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
if (result.error) {
  process.stderr.write(`run-then-hook: ${result.error.message}\n`)
  process.exit(127)
}
afterHookedCall()
if (result.stdout.length > 0) fs.writeSync(1, result.stdout)
if (result.stderr.length > 0) fs.writeSync(2, result.stderr)
process.exit(result.status ?? 1)
