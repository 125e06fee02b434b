import * as core from '@actions/core'

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

export class Redactor {
  private readonly secrets = new Set<string>()

  add(value: string): void {
    // Very short values would redact ordinary words; the runner's own masking ignores them too.
    if (value.length >= 3) this.secrets.add(value)
  }

  redact(text: string): string {
    let out = text
    // Longest first, so a secret that contains another is masked whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join('***')
    }
    return out
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
      core.setSecret(value)
    },
    redact: text => redactor.redact(text)
  }
}
