import { Redactor, type Log } from '../../src/log.js'

export interface CapturedLog extends Log {
  lines: string[]
}

/** A Log that keeps every line it would print, redacted the way the real one redacts. */
export function captureLog(): CapturedLog {
  const redactor = new Redactor()
  const lines: string[] = []
  const push = (level: string) => (message: string) => {
    lines.push(`${level}: ${redactor.redact(message)}`)
  }
  return {
    lines,
    info: push('info'),
    debug: push('debug'),
    warning: push('warning'),
    error: push('error'),
    group: async (name, fn) => {
      lines.push(`group: ${redactor.redact(name)}`)
      return fn()
    },
    secret: value => redactor.add(value),
    redact: text => redactor.redact(text)
  }
}
