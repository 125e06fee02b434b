import path from 'node:path'
import { execRunner, type ProcessRunner } from '../../src/process.js'
import { runAppcmd } from './doubles/appcmd-core.js'
import { runIcacls } from './doubles/icacls-core.js'

const SEED = path.join(import.meta.dirname, 'applicationHost.seed.config')

/** Which double a program path names: the product runs `appcmd`/`icacls` by full path or by name, `.exe` or not. */
function doubleFor(file: string): 'appcmd' | 'icacls' | undefined {
  const name = path.win32
    .basename(file)
    .toLowerCase()
    .replace(/\.exe$/, '')
  return name === 'appcmd' || name === 'icacls' ? name : undefined
}

/**
 * The product's process seam with appcmd and icacls answered in process by the doubles' cores, against the state
 * their environment names (`env`, e.g. an IIS sandbox's); every other program runs for real through `inner`.
 * Starting no node process per call is what keeps the fault tests, which run a deploy once per write, fast.
 */
export function doubleRunner(env: Record<string, string>, inner: ProcessRunner = execRunner): ProcessRunner {
  return {
    async run(file, args, options = {}) {
      const double = doubleFor(file)
      const merged = { ...(process.env as Record<string, string>), ...env }
      // A child the product gives an environment of its own (the app's, for Django) gets that one, as execRunner
      // does; the sandbox's variables go on top so the doubles stay on PATH.
      if (double === undefined) return inner.run(file, args, { ...options, env: options.env ? { ...options.env, ...env } : merged })
      const started = performance.now()
      const answer = double === 'appcmd' ? runAppcmd(args, merged, SEED) : runIcacls(args, merged)
      return {
        // As the shim's process reports it on Linux (1168 → 144), so both tiers see the same codes.
        exitCode: answer.exitCode % 256,
        stdout: answer.stdout,
        stderr: answer.stderr,
        durationMs: Math.round(performance.now() - started)
      }
    }
  }
}
