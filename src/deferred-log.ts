import type { AnnotationProps, Log } from './log.js'

type Line = { kind: 'info' | 'debug' | 'warning' | 'error'; message: string; props?: AnnotationProps }

/**
 * A Log for work that runs beside a step with log groups of its own: its lines wait and are printed by `flush`,
 * after that step, so they never land inside the other step's groups. Secrets are registered at once.
 */
export function deferredLog(log: Log): { log: Log; flush: () => void } {
  const lines: Line[] = []
  return {
    log: {
      info: message => lines.push({ kind: 'info', message }),
      debug: message => lines.push({ kind: 'debug', message }),
      warning: (message, props) => lines.push({ kind: 'warning', message, ...(props ? { props } : {}) }),
      error: (message, props) => lines.push({ kind: 'error', message, ...(props ? { props } : {}) }),
      // A group would open inside the other step's output: its lines join the others instead.
      group: (_name, fn) => fn(),
      secret: value => log.secret(value),
      redact: text => log.redact(text)
    },
    flush: () => {
      for (const line of lines.splice(0)) {
        if (line.kind === 'warning' || line.kind === 'error') log[line.kind](line.message, line.props)
        else log[line.kind](line.message)
      }
    }
  }
}
