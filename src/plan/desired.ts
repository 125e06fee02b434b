import type { DeployConfig, EnvVar } from '../config.js'
import { layoutFor, pathApi } from '../layout.js'
import { poolPrincipalOf } from '../inputs/identity.js'
import { appLocation } from '../iis/app-location.js'
import type { StateQuery } from '../iis/state.js'
import type { DesiredState } from './types.js'
import { staticLocation, type StaticLocation, type StaticSettings } from './static-location.js'
import { samePath } from '../windows-path.js'
import type path from 'node:path'

/** What the stage phase (or, in plan mode, a dry probe) learned; everything else comes from config. */
export interface StageFacts {
  releaseId: string
  venvHash: string
  /** major.minor of the venv's interpreter, for POSIX site-packages paths. */
  pythonVersion: string
  /** Install folder of the base interpreter (sys.base_prefix): the pool identity must read it. */
  pythonHome: string
  /** Django's WSGI_APPLICATION, e.g. 'hello.wsgi.application'; empty when the settings do not say. */
  wsgiApplication: string
  /** STATIC_URL and FORCE_SCRIPT_NAME as the settings write them: where the static files are served follows them. */
  staticSettings: StaticSettings
}

/** wfastcgi calls a handler whose name ends in (); Django's factory gives a fresh application. */
export function wsgiHandler(facts: StageFacts): string {
  return facts.wsgiApplication || 'django.core.wsgi.get_wsgi_application()'
}

/**
 * FastCGI passes `arguments` to the interpreter as a command line, so a path with spaces must be quoted there;
 * the same quotes then belong to scriptProcessor (iis-facts: compared byte for byte).
 */
export function commandLineArgument(value: string): string {
  return /\s/.test(value) ? `"${value}"` : value
}

export function poolPrincipal(pool: string): string {
  return `IIS AppPool\\${pool}`
}

/**
 * The FastCGI registration's variables: what stays the same from release to release (ours first, then the inputs).
 * Per-release values are in the release's web.config instead (releaseAppSettings), so that switching the app's
 * physical path alone switches releases.
 */
export function appEnvironment(config: DeployConfig): EnvVar[] {
  const layout = layoutFor(config.deployRoot)
  const ours: EnvVar[] = [
    { name: 'DJANGO_SETTINGS_MODULE', value: config.settingsModule, secret: false },
    { name: 'WSGI_LOG', value: layout.wsgiLog, secret: false }
  ]
  return [...ours, ...config.env]
}

/**
 * What wfastcgi reads from `<appSettings>` in the web.config of the app's physical path: this release's.
 * SCRIPT_NAME: IIS hands wfastcgi the whole URL path; wfastcgi moves the prefix into SCRIPT_NAME only when this
 * setting names it, so an app below the site root needs it or every URL pattern misses (docs/windows-facts.md, wf-script-name).
 */
export function releaseAppSettings(config: DeployConfig, facts: StageFacts): EnvVar[] {
  const layout = layoutFor(config.deployRoot)
  const scriptName: EnvVar[] = config.appPath === '/' ? [] : [{ name: 'SCRIPT_NAME', value: config.appPath, secret: false }]
  return [
    { name: 'PYTHONPATH', value: layout.releaseDir(facts.releaseId), secret: false },
    { name: 'WSGI_HANDLER', value: wsgiHandler(facts), secret: false },
    ...scriptName
  ]
}

/** The Python worker's environment once wfastcgi has merged the release's appSettings into the registration's. */
export function workerEnvironment(config: DeployConfig, facts: StageFacts): EnvVar[] {
  const settings = releaseAppSettings(config, facts)
  const names = new Set(settings.map(v => v.name.toUpperCase()))
  return [...appEnvironment(config).filter(v => !names.has(v.name.toUpperCase())), ...settings]
}

/**
 * The names the IIS state read needs, known from the inputs before anything is staged. The static virtual directory
 * is not among them: STATIC_URL is only known after staging, and the site read returns all of the app's vdirs.
 */
export function stateQuery(config: DeployConfig): StateQuery {
  return { hosting: config.hosting, pool: { name: config.appPool }, app: appLocation(config) }
}

/**
 * The static vdir STATIC_URL needs, or none where the app's root vdir already serves the collected folder: for
 * '<app>/static/' that is release/static, whose own web.config makes IIS serve it (docs/windows-facts.md,
 * st-subdir-config), so the release switch moves pages and static files together and no vdir write is needed.
 */
function staticVdirFor(location: StaticLocation, releaseDir: string, staticDir: string, p: path.PlatformPath): DesiredState['staticVdir'] {
  if (location.kind !== 'vdir') return undefined
  const underRoot = p.join(releaseDir, ...location.vdirPath.split('/').filter(Boolean))
  return samePath(underRoot, staticDir) ? undefined : { path: location.vdirPath, physicalPath: staticDir }
}

export function desiredState(config: DeployConfig, facts: StageFacts): DesiredState {
  const layout = layoutFor(config.deployRoot)
  const p = pathApi(layout.flavour)
  const releaseDir = layout.releaseDir(facts.releaseId)
  const venvDir = layout.venvDir(facts.venvHash)
  const principal = poolPrincipalOf(config.appPool, config.poolAccount)
  const fastcgi = config.hosting === 'fastcgi'
  const location = staticLocation(config.appPath, facts.staticSettings, config.staticServedElsewhere)
  return {
    hosting: config.hosting,
    pool: {
      name: config.appPool,
      identity: config.poolIdentity,
      ...(config.poolAccount ? { account: config.poolAccount } : {}),
      principal,
      managedRuntimeVersion: ''
    },
    // A domain account decrypts the Kerberos tickets for its own SPNs (docs/identity-and-auth.md, kernel mode).
    auth: { mode: config.auth, useAppPoolCredentials: config.poolAccount !== undefined },
    app: { ...appLocation(config), pool: config.appPool, physicalPath: releaseDir },
    staticLocation: location,
    staticVdir: staticVdirFor(location, releaseDir, layout.staticDir(facts.releaseId), p),
    ownedStaticPrefix: layout.releasesDir,
    fastCgi: fastcgi
      ? {
          fullPath: layout.venvPython(facts.venvHash),
          arguments: commandLineArgument(p.join(layout.venvSitePackages(facts.venvHash, facts.pythonVersion), 'wfastcgi.py')),
          env: appEnvironment(config)
        }
      : undefined,
    httpPlatformSecretEnv: fastcgi ? [] : config.env.filter(v => v.secret),
    anonymousAsPool: config.anonymousUser === 'pool',
    warmUp: config.warmUp,
    ownedPrefix: layout.venvsDir,
    acl: [
      { path: facts.pythonHome, permission: '(OI)(CI)RX', why: `${principal} runs the base Python interpreter` },
      { path: venvDir, permission: '(OI)(CI)RX', why: `${principal} runs the venv and imports its packages` },
      // On the releases folder, not each release: a release is built in a scratch folder under it, so every new
      // release inherits the entry (docs/windows-facts.md, ic-inherit) and a code change runs no icacls.
      {
        path: layout.releasesDir,
        permission: '(OI)(CI)RX',
        why: `${principal} reads the releases' code, web.config and static files (new releases inherit it)`
      },
      {
        path: layout.logsDir,
        permission: '(OI)(CI)M',
        why: `${principal} writes WSGI_LOG and server logs (FastCGI dies silently otherwise)`
      },
      // The one other place the app may write: what outlives releases (uploads, SQLite). Inherited by what the
      // links reach, since access through a junction or symlink is checked against the target (fs-link-acl).
      ...(config.shared.dirs.length + config.shared.files.length > 0
        ? [{ path: layout.sharedDir, permission: '(OI)(CI)M', why: `${principal} writes the shared folders and files (uploads, data)` }]
        : [])
    ]
  }
}
