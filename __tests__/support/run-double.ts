import { execFile } from 'node:child_process'
import { doubleRunner } from './double-runner.js'

export interface DoubleResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs a double as the product's runner does in the unit tier: a program and an argv, answered in process. */
export async function runDouble(file: string, argv: readonly string[], env: Record<string, string>): Promise<DoubleResult> {
  const { exitCode, stdout, stderr } = await doubleRunner(env).run(file, argv)
  return { exitCode, stdout, stderr }
}

/** Runs a double's program (the shim) as a real process, as the bundle and the IIS stand-in meet it. */
export function runDoubleProcess(file: string, argv: readonly string[], env: Record<string, string>): Promise<DoubleResult> {
  return new Promise((resolve, reject) => {
    execFile(file, [...argv], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(new Error(error.message, { cause: error }))
      resolve({ exitCode: error ? Number(error.code) : 0, stdout, stderr })
    })
  })
}
