import { Redactor, secretForms } from './masking.js'
import * as core from './workflow-commands.js'
import type { AnnotationProps } from './workflow-commands.js'

export type { AnnotationProps }

/**
 * Everything the action says goes through a Log, so secrets are redacted in one place: the runner masks
 * values registered with setSecret, but local runs, files and the job summary see our own redaction only.
 */
export interface Log {
  info(message: string): void
  debug(message: string): void
  warning(message: string, props?: AnnotationProps): void
  error(message: string, props?: AnnotationProps): void
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
  /** Registers a value that must never appear in output. */
  secret(value: string): void
  redact(text: string): string
}

// Masking lives in src/masking.ts; these names stay importable from here for the modules that log.
export { maskSecrets, MIN_SECRET_LENGTH, Redactor, secretForms } from './masking.js'

export function coreLog(redactor = new Redactor()): Log {
  return {
    info: message => core.info(redactor.redact(message)),
    debug: message => core.debug(redactor.redact(message)),
    warning: (message, props) => core.warning(redactor.redact(message), props),
    error: (message, props) => core.error(redactor.redact(message), props),
    group: (name, fn) => core.group(redactor.redact(name), fn),
    secret: value => {
      redactor.add(value)
      // The runner masks only what it is told: each form this action may print is registered.
      for (const form of secretForms(value)) core.setSecret(form)
    },
    redact: text => redactor.redact(text)
  }
}
