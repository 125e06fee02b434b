import { execRunner, type ProcessOptions, type ProcessResult, type ProcessRunner } from '../../src/process.js'

export interface RecordedCall {
  file: string
  args: string[]
  options: ProcessOptions
  result?: ProcessResult
}

export interface CountingRunner extends ProcessRunner {
  calls: RecordedCall[]
  reset(): void
}

/** Runs real processes through `inner` and records every call, so tests can count them and inspect argv and env. */
export function countingRunner(inner: ProcessRunner = execRunner): CountingRunner {
  const calls: RecordedCall[] = []
  return {
    calls,
    reset: () => {
      calls.length = 0
    },
    async run(file, args, options = {}) {
      const call: RecordedCall = { file, args: [...args], options }
      calls.push(call)
      call.result = await inner.run(file, args, options)
      return call.result
    }
  }
}
