import type { ProcessRunner } from '../../src/process.js'
import type { IisSandbox } from './iis-sandbox.js'

/**
 * A runner that makes the appcmd double fail the calls `when` picks (a commit failure, exit 32, nothing changed),
 * the way a locked applicationHost.config fails a write; every other call runs as is. `when` sees each appcmd
 * call's argv and its 1-based number among the calls this runner passed to appcmd.
 */
export function failingRunner(
  inner: ProcessRunner,
  sandbox: IisSandbox,
  when: (argv: readonly string[], nth: number) => boolean
): ProcessRunner {
  let nth = 0
  return {
    async run(file, args, options = {}) {
      if (file !== sandbox.appcmdPath) return inner.run(file, args, options)
      nth++
      if (when(args, nth)) sandbox.failAt(sandbox.mutatingCalls().length + 1)
      try {
        return await inner.run(file, args, options)
      } finally {
        sandbox.failAt(undefined)
      }
    }
  }
}
