import { PhaseError } from '../errors.js'
import type { Redactor } from '../log.js'

/** One exception of a Python traceback chain, outermost first. */
export interface PyError {
  type: string
  message: string
  /** ImportError.name: the module that could not be imported. */
  name: string | null
}

export interface Failure {
  errors?: PyError[]
  traceback?: string
}

function lastLines(text: string, count = 12): string {
  return text.trimEnd().split(/\r?\n/).slice(-count).join('\n')
}

/**
 * The likeliest cause among the exception chains, as the fix to make. Chains come innermost cause last; the first
 * import failure is the real one (later ones are consequences).
 */
export function likelyCause(chains: PyError[][], ctx: { settingsModule: string; host?: string }): string | undefined {
  const all = chains.flat()
  const missing = all.find(e => e.type === 'ModuleNotFoundError' && e.name)
  if (missing?.name && (ctx.settingsModule === missing.name || ctx.settingsModule.startsWith(`${missing.name}.`))) {
    return (
      `wrong settings module: DJANGO_SETTINGS_MODULE '${ctx.settingsModule}' cannot be imported (No module named '${missing.name}'); ` +
      'set settings-module to the dotted name of your settings (e.g. mysite.settings), relative to app-dir'
    )
  }
  if (missing?.name) {
    return `import error: the app imports '${missing.name}', which is not installed in the venv; add it to requirements`
  }
  const importError = all.find(e => e.type === 'ImportError' || e.type === 'ModuleNotFoundError')
  if (importError) return `import error: ${importError.message}; add the missing package to requirements or fix the import`
  if (all.some(e => e.type === 'DisallowedHost')) {
    return `DisallowedHost: add '${ctx.host ?? 'the host of verify-url'}' to ALLOWED_HOSTS in the settings (or the variable they read it from)`
  }
  const improper = all.find(e => e.type === 'ImproperlyConfigured')
  if (improper) return `the settings are incomplete: ${improper.message}`
  return undefined
}

export function failure(phase: string, summary: string, failed: Failure, cause: string | undefined, redactor: Redactor): PhaseError {
  const tail = failed.traceback ? `\n${lastLines(failed.traceback)}` : ''
  const message = `${summary}${cause ? `: ${cause}` : ''}${tail}`
  return new PhaseError(phase, redactor.redact(message), cause ? redactor.redact(cause) : undefined)
}
