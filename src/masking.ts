import { xmlEscape } from './render/xml.js'

// The one place secrets are masked: the log, the job summary, plan.json and appcmd's echoed argv all come here.

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
