import path from 'node:path'
import type { DeployConfig } from './config.js'
import { PhaseError } from './errors.js'
import type { Layout } from './layout.js'
import type { Log } from './log.js'
import { desiredState, workerEnvironment, wsgiHandler, type StageFacts } from './plan/desired.js'
import type { DesiredState } from './plan/types.js'
import { describeStaticLocation, staticCheckUrl, type StaticSettings } from './plan/static-location.js'
import type { ProcessRunner } from './process.js'
import { collectedFrom, settingsFrom, warningsFrom, type CheckWarning, type SettingsFacts } from './python/django.js'
import { preflightFrom, requestSpec } from './python/django-preflight.js'
import { dataPathsFrom } from './python/data-paths.js'
import { serveMedia } from './shared/serve-media.js'
import type { MediaServing } from './shared/media.js'
import { iisEnv, runScript, secretsOf, type DjangoOptions } from './python/django-script.js'
import { serverPreflight } from './python/server-preflight.js'
import type { InterpreterInfo } from './python/interpreter.js'
import { writeFileAtomic } from './render/atomic-write.js'
import {
  HTTP_PLATFORM_STARTUP_SECONDS,
  httpPlatformArguments,
  httpPlatformEnvironment,
  renderReleaseConfigs,
  type RenderedFile
} from './render/release-configs.js'
import type { TemplateSet } from './render/templates.js'
import { pendingFrom, type PendingMigrations } from './migrations/pending.js'
import { checkRemoteUserSettings, remoteUserNotes } from './shibboleth/remote-user-check.js'
import { WINDOWS_REMOTE_USER_NOTE } from './inputs/auth.js'
import { pickStaticFile } from './verify/static.js'

export interface StagedDjango {
  facts: StageFacts
  desired: DesiredState
  staticSettings: StaticSettings
  staticFiles: string[]
  checkUrl?: string
  checkWarnings: CheckWarning[]
  configs: RenderedFile[]
  /** Where IIS serves the uploads (a shared MEDIA_ROOT under the app's URL), recorded for a reuse of the release. */
  media?: MediaServing
  /** What the release's own process found; undefined when it ended before listing them. */
  pendingMigrations?: PendingMigrations
}

export interface StageDjangoContext {
  runner: ProcessRunner
  log: Log
  templates: TemplateSet
  layout: Layout
  interpreter: InterpreterInfo
  venvPython: string
  venvHash: string
  releaseDir: string
  /** The static folder of the release the project files were shared with: collectstatic keeps its unchanged files. */
  staticShareFrom?: string
  factsFor: (wsgiApplication: string, staticSettings: StaticSettings) => StageFacts
}

/**
 * Settings, collectstatic, check --deploy and the preflight request of a new release, from one Python process that
 * imports Django once (src/python/scripts/release_checks.py), then read part by part in the order they ran, so each
 * failure is reported as precisely as when every part had its own process.
 */
export async function stageDjango(ctx: StageDjangoContext, config: DeployConfig): Promise<StagedDjango> {
  const { runner, log, templates, layout, releaseDir } = ctx
  // The worker's environment; only WSGI_HANDLER waits for the settings, and the script sets it from them the way
  // the release's appSettings will (wsgiHandler), before anything imports the handler.
  const env = workerEnvironment(config, ctx.factsFor('', { staticUrl: null, forceScriptName: null })).filter(
    v => v.name.toUpperCase() !== 'WSGI_HANDLER'
  )
  const django: DjangoOptions = { venvPython: ctx.venvPython, projectDir: releaseDir, settingsModule: config.settingsModule, env }
  const redactor = secretsOf(django)
  const staticRoot = layout.staticDir(config.releaseId)
  const verifyHost = config.verify.hostHeader || new URL(config.verify.url).host
  const request = requestSpec({ path: config.preflightPath, host: verifyHost, appPath: config.appPath })

  const run = await log.group('Django (settings, collectstatic, check --deploy, preflight request)', async () => {
    log.info(`One Python process in ${releaseDir}; static files are collected into ${staticRoot}.`)
    return runScript(
      runner,
      django,
      {
        settings: true,
        handlerFallback: wsgiHandler(ctx.factsFor('', { staticUrl: null, forceScriptName: null })),
        data: { releaseDir, sharedDir: layout.sharedDir },
        collectstatic: { staticRoot, ...(ctx.staticShareFrom ? { shareFrom: ctx.staticShareFrom } : {}) },
        check: true,
        preflight: request.spec,
        migrations: true
      },
      iisEnv(django)
    )
  })

  const { settings, handler } = await log.group('Django settings', async () => settingsFrom(run, django, redactor))
  const media = await log.group('Files the app keeps', async () => {
    const folder = dataPathsFrom(run, django, redactor)
    log.info(`No setting keeps files inside the release except through ${layout.sharedDir}.`)
    return serveMedia(log, templates, releaseDir, config.appPath, settings.MEDIA_URL, folder)
  })
  const staticSettings: StaticSettings = { staticUrl: settings.STATIC_URL, forceScriptName: settings.FORCE_SCRIPT_NAME }
  const facts = ctx.factsFor(settings.WSGI_APPLICATION ?? '', staticSettings)
  if (handler !== wsgiHandler(facts)) {
    throw new PhaseError('stage', `the preflight used WSGI_HANDLER '${handler ?? ''}', the release registers '${wsgiHandler(facts)}'`)
  }
  const desired = desiredState(config, facts)
  log.info(describeStaticLocation(desired.staticLocation))

  const staticFiles = await log.group('collectstatic', async () => {
    const { files, shared, notShared } = collectedFrom(run, log, redactor)
    const from = ctx.staticShareFrom
    log.info(
      `${files.length} static files collected into ${staticRoot}` +
        (from && shared !== undefined ? `, ${shared} of them unchanged and shared with ${from} (hard links).` : '.')
    )
    if (from && notShared) log.info(`Static files not shared with ${from}: ${notShared}; collectstatic copied them.`)
    return files
  })

  const configs = renderReleaseConfigs(templates, config, desired, facts)
  for (const file of configs) writeFileAtomic(path.join(releaseDir, ...file.relPath.split('/')), file.content)

  let checkUrl: string | undefined
  const checkWarnings = await log.group('Preflight', async () => {
    const { warnings } = warningsFrom(run, django, redactor)
    for (const w of warnings) log.warning(`${w.id}: ${w.message}`, { title: 'manage.py check --deploy' })
    if ((config.shibboleth.enabled || config.auth === 'windows') && config.shibboleth.requireRemoteUser) {
      if (config.auth === 'windows') log.info(WINDOWS_REMOTE_USER_NOTE)
      const problems = checkRemoteUserSettings(settingsForRemoteUser(settings))
      if (problems.length > 0)
        throw new PhaseError(
          'preflight',
          problems.join(' '),
          'add the settings above, or set require-remote-user: false when the app authenticates otherwise'
        )
      for (const note of remoteUserNotes(settingsForRemoteUser(settings))) log.warning(note)
    }
    const response = preflightFrom(run, { settingsModule: config.settingsModule, appPath: config.appPath }, request, redactor)
    log.info(`GET ${config.preflightPath} through ${response.handler} (Host: ${verifyHost}) answered ${response.status}.`)
    const staticFile = pickStaticFile(staticFiles)
    // The script picks the file by the same rule; a URL rendered for another file would send verify astray.
    const { staticUrl } = response.static
    const rendered = response.staticFile === staticFile ? response.static : staticUrl !== undefined ? { staticUrl } : {}
    const checked = staticCheckUrl(desired.staticLocation, rendered, staticFile)
    if (checked.warning) log.warning(checked.warning)
    checkUrl = checked.url
    if (checkUrl) log.info(`The app links ${staticFile ?? ''} as ${checkUrl}; verify fetches it there.`)
    if (config.hosting === 'httpplatform') {
      // Its own process by nature: HttpPlatformHandler starts the configured server command (waitress, ...), which
      // must listen on the port and answer over HTTP; no in-process WSGI call proves that.
      const server = await serverPreflight({
        processPath: ctx.venvPython,
        arguments: httpPlatformArguments(config, facts),
        cwd: releaseDir,
        env: httpPlatformEnvironment(config, facts),
        appPath: config.appPath,
        path: config.preflightPath,
        host: verifyHost,
        startupTimeoutMs: HTTP_PLATFORM_STARTUP_SECONDS * 1000
      })
      log.info(
        `HttpPlatformHandler command (${server.argv.join(' ')}) answered ${server.status} for ${server.requestPath} over HTTP on port ${server.port}, then stopped.`
      )
    }
    return warnings
  })

  const pendingMigrations = pendingFrom(run.parts.migrations)
  return {
    facts,
    desired,
    staticSettings,
    staticFiles,
    ...(checkUrl ? { checkUrl } : {}),
    checkWarnings,
    configs,
    ...(media ? { media } : {}),
    ...(pendingMigrations ? { pendingMigrations } : {})
  }
}

function settingsForRemoteUser(settings: SettingsFacts): { MIDDLEWARE: string[]; AUTHENTICATION_BACKENDS: string[] } {
  return { MIDDLEWARE: settings.MIDDLEWARE ?? [], AUTHENTICATION_BACKENDS: settings.AUTHENTICATION_BACKENDS ?? [] }
}
