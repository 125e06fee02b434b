import type { Log } from './log.js'
import type { RunReport } from './report.js'

/** Times each phase for the summary; a phase that throws is recorded as failed. */
export class Phases {
  readonly list: RunReport['phases'] = []
  constructor(private readonly log: Log) {}

  async run<T>(name: string, fn: () => Promise<T>, grouped = true): Promise<T> {
    const started = performance.now()
    let ok = false
    try {
      const result = grouped ? await this.log.group(name, fn) : await fn()
      ok = true
      return result
    } finally {
      this.list.push({ name, ms: Math.round(performance.now() - started), ok })
    }
  }
}
