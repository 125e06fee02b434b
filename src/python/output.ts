import type { ProcessResult } from '../process.js'

/** The last lines of a child's output (stderr after stdout), where Python and pip say what went wrong. */
export function outputTail(result: Pick<ProcessResult, 'stdout' | 'stderr'>, lines = 15): string {
  const all = `${result.stdout}\n${result.stderr}`
    .split(/\r?\n/)
    .map(l => l.trimEnd())
    .filter(l => l !== '')
  return all.slice(-lines).join('\n')
}
