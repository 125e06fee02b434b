import * as core from '@actions/core'
import { xmlEscape } from './render/xml.js'

export interface AnnotationProps {
  title?: string
  file?: string
  startLine?: number
}

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

/** Shorter values would mask ordinary words and digits; secret-env refuses them (src/inputs/rules.ts). */
export const MIN_SECRET_LENGTH = 3

/**
 * Every form in which the action itself may print a value: as given, display-quoted (appcmd argv in the log),
 * JSON-escaped (plan.json), XML-escaped (rendered files, appcmd's XML) and percent-encoded (URLs).
 */
export function secretForms(value: string): string[] {
  if (value.length < MIN_SECRET_LENGTH) return []
  const forms = new Set([
    value,
    value.replace(/"/g, '\\"'),
    JSON.stringify(value).slice(1, -1),
    xmlEscape(value),
    encodeURIComponent(value),
    encodeURI(value)
  ])
  return [...forms]
}

/** The one masking function: each secret, in every printed form, longest first so a secret holding another goes whole. */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  const forms = new Set<string>()
  for (const secret of secrets) for (const form of secretForms(secret)) forms.add(form)
  let out = text
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join('***')
  return out
}

export class Redactor {
  private readonly secrets = new Set<string>()

  add(value: string): void {
    this.secrets.add(value)
  }

  redact(text: string): string {
    return maskSecrets(text, this.secrets)
  }
}

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
