import { PhaseError } from '../errors.js'
import type { Log, Redactor } from '../log.js'
import type { ProcessRunner } from '../process.js'
import { failure, likelyCause } from './django-failure.js'
import { commandEnv, partOf, runScript, secretsOf, type DjangoOptions, type PartAnswer, type ScriptRun } from './django-script.js'
import { outputTail } from './output.js'

export type { DjangoOptions } from './django-script.js'
export { likelyCause } from './django-failure.js'
export { preflightRequest, type PreflightRequest, type PreflightResult, type RenderedStatic } from './django-preflight.js'

export interface DjangoSettings {
  WSGI_APPLICATION: string | null
  STATIC_URL: string | null
  /** Replaces SCRIPT_NAME as Django's script prefix when set (docs/static-url.md). */
  FORCE_SCRIPT_NAME: string | null
  STATIC_ROOT: string | null
  /** As written; with MEDIA_ROOT behind a shared link, IIS may serve it (src/shared/media.ts). */
  MEDIA_URL: string | null
  INSTALLED_APPS: string[]
  MIDDLEWARE: string[]
  AUTHENTICATION_BACKENDS: string[]
  ALLOWED_HOSTS: string[]
  DEBUG: boolean
}

/** The name the stage flow uses. */
export type SettingsFacts = DjangoSettings

export interface CheckWarning {
  id: string
  message: string
  hint: string
}

interface SettingsAnswer extends PartAnswer {
  settings?: DjangoSettings
  /** WSGI_HANDLER as the script set it from the settings (when asked to). */
  handler?: string
}

/** The settings part of a run of release_checks.py, or the failure naming the settings module and the fix. */
export function settingsFrom(run: ScriptRun, opts: DjangoOptions, redactor: Redactor): { settings: DjangoSettings; handler?: string } {
  const answer = partOf<SettingsAnswer>(run, 'settings', 'stage', 'reading the Django settings', redactor)
  if (!answer.ok || !answer.settings) {
    const cause = likelyCause([answer.errors ?? []], { settingsModule: opts.settingsModule })
    throw failure('stage', `Django settings '${opts.settingsModule}' could not be loaded`, answer, cause, redactor)
  }
  const s = answer.settings
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [])
  const settings: DjangoSettings = {
    WSGI_APPLICATION: s.WSGI_APPLICATION ?? null,
    STATIC_URL: s.STATIC_URL ?? null,
    FORCE_SCRIPT_NAME: s.FORCE_SCRIPT_NAME ?? null,
    STATIC_ROOT: s.STATIC_ROOT ?? null,
    MEDIA_URL: typeof s.MEDIA_URL === 'string' ? s.MEDIA_URL : null,
    INSTALLED_APPS: list(s.INSTALLED_APPS),
    MIDDLEWARE: list(s.MIDDLEWARE),
    AUTHENTICATION_BACKENDS: list(s.AUTHENTICATION_BACKENDS),
    ALLOWED_HOSTS: list(s.ALLOWED_HOSTS),
    DEBUG: s.DEBUG === true
  }
  return { settings, ...(answer.handler ? { handler: answer.handler } : {}) }
}

/** The settings the deploy relies on, read by importing the settings module in the venv. */
export async function inspectSettings(runner: ProcessRunner, opts: DjangoOptions): Promise<DjangoSettings> {
  const run = await runScript(runner, opts, { settings: true }, commandEnv(opts))
  return settingsFrom(run, opts, secretsOf(opts)).settings
}

const COLLECTSTATIC_HINT =
  "Is 'django.contrib.staticfiles' in INSTALLED_APPS, and does every STATICFILES_DIRS folder exist in the repository?"

export interface CollectedStatic {
  /** Relative, with / separators. */
  files: string[]
  /** How many came unchanged from the shareFrom folder, as hard links; absent when none was shared. */
  shared?: number
  /** Why the files were copied rather than shared, when sharing was asked for and declined. */
  notShared?: string
}

/** The collectstatic part: the collected files (relative, / separators), or the failure with the command's output. */
export function collectedFrom(run: ScriptRun, log: Log, redactor: Redactor): CollectedStatic {
  const answer: (PartAnswer & { exitCode?: number; files?: string[]; shared?: number; notShared?: string }) | undefined =
    run.parts.collectstatic
  if (!answer || !answer.ok) {
    // No answer: the process itself ended during collectstatic, and its exit code and output say why.
    const exit = answer ? (answer.exitCode ?? 1) : run.result.exitCode
    const output = answer ? { stdout: answer.stdout ?? '', stderr: `${answer.stderr ?? ''}\n${answer.traceback ?? ''}` } : run.result
    throw new PhaseError('stage', redactor.redact(`collectstatic failed (exit ${exit}):\n${outputTail(output)}`), COLLECTSTATIC_HINT)
  }
  log.debug(redactor.redact(answer.stdout ?? ''))
  const files = answer.files ?? []
  log.info(`${files.length} static files collected`)
  return {
    files,
    ...(answer.shared !== undefined ? { shared: answer.shared } : {}),
    ...(answer.notShared ? { notShared: redactor.redact(answer.notShared) } : {})
  }
}

/** collectstatic --noinput into the release's static folder; returns the collected files, relative, with / separators. */
export async function collectStatic(
  runner: ProcessRunner,
  log: Log,
  opts: DjangoOptions & { staticRoot: string }
): Promise<CollectedStatic> {
  log.info(`collecting static files into ${opts.staticRoot}`)
  const run = await runScript(runner, opts, { collectstatic: { staticRoot: opts.staticRoot } }, commandEnv(opts))
  return collectedFrom(run, log, secretsOf(opts))
}

type CheckMessage = CheckWarning & { level: number; serious: boolean; text: string }

/** The check part: errors fail the preflight, warnings are returned for annotations. */
export function warningsFrom(run: ScriptRun, opts: DjangoOptions, redactor: Redactor): { warnings: CheckWarning[] } {
  const answer = partOf<PartAnswer & { messages?: CheckMessage[] }>(run, 'check', 'preflight', 'manage.py check --deploy', redactor)
  if (!answer.messages) {
    const cause = likelyCause([answer.errors ?? []], { settingsModule: opts.settingsModule })
    throw failure('preflight', 'manage.py check --deploy could not run', answer, cause, redactor)
  }
  const serious = answer.messages.filter(m => m.serious)
  if (serious.length > 0) {
    throw new PhaseError(
      'preflight',
      redactor.redact(`manage.py check --deploy found ${serious.length} error(s):\n${serious.map(m => m.text).join('\n')}`),
      'Fix the errors above in the settings; the release was not deployed.'
    )
  }
  return {
    warnings: answer.messages.map(m => ({ id: m.id, message: redactor.redact(m.message), hint: redactor.redact(m.hint) }))
  }
}

/** The checks of `manage.py check --deploy`: errors fail the preflight, warnings are returned for annotations. */
export async function checkDeploy(runner: ProcessRunner, opts: DjangoOptions): Promise<{ warnings: CheckWarning[] }> {
  const run = await runScript(runner, opts, { check: true }, commandEnv(opts))
  return warningsFrom(run, opts, secretsOf(opts))
}
