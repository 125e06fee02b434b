import { getExecOutput } from '@actions/exec'

export interface ProcessOptions {
  cwd?: string
  /** Full environment of the child; when absent the child inherits this process's environment. */
  env?: Record<string, string>
  input?: string
}

export interface ProcessResult {
  exitCode: number
  stdout: string
  stderr: string
  durationMs: number
}

/** The one seam to the outside world's programs (python, appcmd, icacls, shibd, net): tests pass real doubles on PATH. */
export interface ProcessRunner {
  run(file: string, args: readonly string[], options?: ProcessOptions): Promise<ProcessResult>
}

/** Runs programs without a shell, never throwing on a non-zero exit: callers classify failures themselves. */
export const execRunner: ProcessRunner = {
  async run(file, args, options = {}) {
    const started = performance.now()
    const result = await getExecOutput(file, [...args], {
      cwd: options.cwd,
      env: options.env,
      input: options.input === undefined ? undefined : Buffer.from(options.input),
      ignoreReturnCode: true,
      silent: true
    })
    return {
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      durationMs: Math.round(performance.now() - started)
    }
  }
}
