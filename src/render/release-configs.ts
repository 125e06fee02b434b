import type { DeployConfig, EnvVar } from '../config.js'
import { layoutFor, pathApi } from '../layout.js'
import { releaseAppSettings, type StageFacts } from '../plan/desired.js'
import type { DesiredState } from '../plan/types.js'
import type { TemplateSet } from './templates.js'

/** A file of the release, path relative to the release folder with '/' separators. */
export interface RenderedFile {
  relPath: string
  content: string
}

/** IIS splits scriptProcessor at '|' and compares it with the FastCGI registration verbatim. */
export function scriptProcessor(fastCgi: { fullPath: string; arguments: string }): string {
  return `${fastCgi.fullPath}|${fastCgi.arguments}`
}

/** 'hello.wsgi.application' → 'hello.wsgi:application', the form waitress and uvicorn take. */
export function wsgiTarget(wsgiApplication: string, settingsModule: string): string {
  const dotted = wsgiApplication || `${settingsModule.split('.')[0]}.wsgi.application`
  const at = dotted.lastIndexOf('.')
  return `${dotted.slice(0, at)}:${dotted.slice(at + 1)}`
}

/**
 * The command HttpPlatformHandler starts after processPath (the venv's python). HttpPlatformHandler forwards the
 * URL unchanged, so below the site root waitress must strip the app path itself: --url-prefix makes it SCRIPT_NAME
 * and takes it off PATH_INFO (docs/windows-facts.md, hp-url-unchanged, wt-url-prefix).
 */
export function httpPlatformArguments(config: DeployConfig, facts: StageFacts): string {
  if (config.httpPlatformCommand) return config.httpPlatformCommand
  const prefix = config.appPath === '/' ? '' : ` --url-prefix=${config.appPath}`
  return `-m waitress --listen=127.0.0.1:%HTTP_PLATFORM_PORT%${prefix} ${wsgiTarget(facts.wsgiApplication, config.settingsModule)}`
}

/** HttpPlatformHandler's startupTimeLimit, in seconds; the preflight waits as long for the server to answer. */
export const HTTP_PLATFORM_STARTUP_SECONDS = 60

/**
 * What the HttpPlatformHandler process sees: web.config's variables, then the secret ones IIS adds from
 * applicationHost.config at the app's location.
 */
export function httpPlatformEnvironment(config: DeployConfig, facts: StageFacts): EnvVar[] {
  const layout = layoutFor(config.deployRoot)
  return [
    { name: 'DJANGO_SETTINGS_MODULE', value: config.settingsModule, secret: false },
    { name: 'PYTHONPATH', value: layout.releaseDir(facts.releaseId), secret: false },
    ...config.env
  ]
}

export function renderReleaseConfigs(
  templates: TemplateSet,
  config: DeployConfig,
  desired: DesiredState,
  facts: StageFacts
): RenderedFile[] {
  const layout = layoutFor(config.deployRoot)
  const p = pathApi(layout.flavour)
  const common = { siteName: config.siteName, appPath: config.appPath === '/' ? '' : config.appPath, releaseId: facts.releaseId }
  const files: RenderedFile[] = []
  if (desired.fastCgi) {
    const appSettings = releaseAppSettings(config, facts).map(v => ({ key: v.name, value: v.value }))
    files.push({
      relPath: 'web.config',
      content: templates.render('app-web.config', { ...common, scriptProcessor: scriptProcessor(desired.fastCgi), appSettings })
    })
  } else {
    const env = httpPlatformEnvironment(config, facts)
      .filter(v => !v.secret)
      .map(v => ({ name: v.name, value: v.value }))
    files.push({
      relPath: 'web.config',
      content: templates.render('httpplatform-web.config', {
        ...common,
        processPath: layout.venvPython(facts.venvHash),
        arguments: httpPlatformArguments(config, facts),
        stdoutLogFile: p.join(layout.logsDir, 'httpplatform-stdout'),
        startupTimeLimit: HTTP_PLATFORM_STARTUP_SECONDS,
        env
      })
    })
  }
  files.push({
    relPath: 'static/web.config',
    // With the files served elsewhere no vdir maps the folder; the app's root vdir still reaches it as static/.
    content: templates.render('static-web.config', {
      staticUrlPath: desired.staticLocation.kind === 'vdir' ? desired.staticLocation.urlPath : `${common.appPath}/static/`
    })
  })
  return files
}
