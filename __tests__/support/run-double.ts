import { execFile } from 'node:child_process'

export interface DoubleResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs a double as the product does: a program and an argv, no shell, never rejecting on a non-zero exit. */
export function runDouble(file: string, argv: readonly string[], env: Record<string, string>): Promise<DoubleResult> {
  return new Promise((resolve, reject) => {
    execFile(file, [...argv], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(new Error(error.message, { cause: error }))
      resolve({ exitCode: error ? Number(error.code) : 0, stdout, stderr })
    })
  })
}
