import type { ProcessResult, ProcessRunner } from '../process.js'

/** A read-only call's answer, or why the program could not be started (not installed, not on PATH). */
export type Answer = ProcessResult | { missing: string }

export async function ask(runner: ProcessRunner, file: string, args: readonly string[]): Promise<Answer> {
  try {
    return await runner.run(file, args)
  } catch (error) {
    // @actions/exec throws when the file cannot be found (src/python/interpreter.ts relies on the same).
    return { missing: (error as Error).message }
  }
}

export type ServiceState = { kind: 'state'; state: string } | { kind: 'missing' } | { kind: 'unknown'; output: string }

/**
 * `sc.exe query <name>`: a `STATE : 4  RUNNING` line; exit 1060 (ERROR_SERVICE_DOES_NOT_EXIST) for a service that
 * is not installed (docs/windows-facts.md, dr-sc-query).
 */
export async function serviceState(runner: ProcessRunner, name: string): Promise<ServiceState> {
  const answer = await ask(runner, 'sc.exe', ['query', name])
  if ('missing' in answer) return { kind: 'unknown', output: answer.missing }
  const state = /^\s*STATE\s*:\s*\d+\s+(\w+)/m.exec(answer.stdout)?.[1]
  if (state) return { kind: 'state', state: state.toUpperCase() }
  if (answer.exitCode === 1060 || answer.exitCode === 1060 % 256 || /\b1060\b|does not exist as an installed service/i.test(answer.stdout))
    return { kind: 'missing' }
  return { kind: 'unknown', output: `${answer.stdout}${answer.stderr}`.trim() || `exit ${answer.exitCode}` }
}
