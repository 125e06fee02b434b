import { execRunner, type ProcessOptions, type ProcessResult, type ProcessRunner } from '../../src/process.js'

export interface RecordedCall {
  file: string
  args: string[]
  options: ProcessOptions
  result?: ProcessResult
  /** The calls still running when this one started (their file and args): what ran side by side. */
  runningAtStart: string[]
}

export interface CountingRunner extends ProcessRunner {
  calls: RecordedCall[]
  reset(): void
}

/** Runs real processes through `inner` and records every call, so tests can count them and inspect argv and env. */
export function countingRunner(inner: ProcessRunner = execRunner): CountingRunner {
  const calls: RecordedCall[] = []
  const running = new Set<RecordedCall>()
  return {
    calls,
    reset: () => {
      calls.length = 0
    },
    async run(file, args, options = {}) {
      const runningAtStart = [...running].map(c => [c.file, ...c.args].join(' '))
      const call: RecordedCall = { file, args: [...args], options, runningAtStart }
      calls.push(call)
      running.add(call)
      try {
        call.result = await inner.run(file, args, options)
      } finally {
        running.delete(call)
      }
      return call.result
    }
  }
}
