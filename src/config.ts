import * as core from '@actions/core'
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { InputError } from './errors.js'
import { parseAuth, type AuthMode } from './inputs/auth.js'
import { parsePoolIdentity, type PoolAccount, type PoolIdentity } from './inputs/identity.js'
import { derivePoolName } from './inputs/pool-name.js'
import { checkAppPathSegments, checkDeployRoot, checkEnvValue, checkLength, checkText } from './inputs/rules.js'
import { defaultServerLockDir } from './iis/lock.js'
import { flavourOf, pathApi, type Flavour } from './layout.js'
import { MIN_SECRET_LENGTH } from './log.js'
import { DEFAULT_CHECK, SP_DEFAULT_CONFIG } from './shibboleth/check.js'

export type Mode = 'deploy' | 'stage' | 'plan'
export type Hosting = 'fastcgi' | 'httpplatform'
export type { AuthMode, PoolAccount, PoolIdentity }

export interface EnvVar {
  name: string
  value: string
  secret: boolean
}

export interface ShibbolethConfig {
  enabled: boolean
  configPath: string
  host: string
  /** shibboleth-host was empty: the host follows the verify URL (and so the site's binding in deploy mode). */
  hostFromVerifyUrl: boolean
  remoteUser: string[]
  check: string[]
  service: string
  requireRemoteUser: boolean
}

export interface VerifyConfig {
  url: string
  /** verify-url was empty: deploy mode replaces the localhost guess with one from the site's binding. */
  urlFromBinding?: boolean
  status: number
  body?: { text: string } | { regex: string }
  extraUrls: string[]
  hostHeader: string
  requestTimeoutMs: number
  totalTimeoutMs: number
  intervalMs: number
  caBundle: string
  insecure: boolean
  followRedirects: boolean
  checkStatic: boolean
}

/** Every input, read once, typed and validated: nothing below this module reads action inputs. */
export interface DeployConfig {
  mode: Mode
  appDir: string
  requirements: string
  python: string
  pipArgs: string[]
  venvSystemSitePackages: boolean
  wfastcgi: string
  deployRoot: string
  flavour: Flavour
  siteName: string
  appPath: string
  appPool: string
  /** app-pool was set, not derived: a pool shared with other apps is then meant (src/iis/pool-sharing.ts). */
  appPoolGiven: boolean
  poolIdentity: PoolIdentity
  /** identityType SpecificUser: the account (src/inputs/identity.ts). */
  poolAccount?: PoolAccount
  /** Who may use the app (src/inputs/auth.ts); shibboleth.enabled follows it. */
  auth: AuthMode
  /** Who reads files for anonymous requests: the pool identity, or whatever the site says (IUSR by default). */
  anonymousUser: 'pool' | 'keep'
  /** Another server serves the static files: STATIC_URL may point anywhere, no static vdir is made or checked. */
  staticServedElsewhere: boolean
  settingsModule: string
  env: EnvVar[]
  hosting: Hosting
  httpPlatformCommand: string
  httpPlatformPackage: string
  shibboleth: ShibbolethConfig
  verify: VerifyConfig
  preflightPath: string
  outputDir: string
  templatesDir: string
  appcmd: string
  icacls: string
  keepReleases: number
  keepBackups: number
  lockTimeoutMs: number
  /** Folder of the server-wide lock (lock-dir). */
  lockDir: string
  releaseId: string
}

export type InputReader = (name: string) => string

const DEFAULTS: Record<string, string> = {
  mode: 'deploy',
  'app-dir': '.',
  'venv-system-site-packages': 'false',
  wfastcgi: 'wfastcgi==3.0.0',
  'site-name': 'Default Web Site',
  'pool-identity': 'ApplicationPoolIdentity',
  'anonymous-user': 'pool',
  hosting: 'fastcgi',
  'httpplatform-package': 'waitress',
  shibboleth: 'false',
  'shibboleth-config': SP_DEFAULT_CONFIG,
  'shibboleth-check': DEFAULT_CHECK,
  'shibboleth-service': 'shibd_Default',
  'require-remote-user': 'true',
  'verify-status': '200',
  'verify-request-timeout': '10',
  'verify-timeout': '120',
  'verify-interval': '0.25',
  'verify-insecure': 'false',
  'verify-follow-redirects': 'false',
  'verify-static': 'true',
  'static-served-elsewhere': 'false',
  'preflight-path': '/',
  appcmd: '%windir%\\system32\\inetsrv\\appcmd.exe',
  icacls: 'icacls',
  'keep-releases': '5',
  'keep-backups': '5',
  'lock-timeout': '600'
}

/** Reads inputs the way the runner passes them; defaults mirror action.yml so local runs and tests behave alike. */
export const actionInputs: InputReader = name => core.getInput(name) || DEFAULTS[name] || ''

function bool(input: string, raw: string): boolean {
  const v = raw.trim().toLowerCase()
  if (['true', 'yes', '1', 'on'].includes(v)) return true
  if (['false', 'no', '0', 'off', ''].includes(v)) return false
  throw new InputError(input, `'${raw}' is not a boolean; use true or false`)
}

function oneOf<T extends string>(input: string, raw: string, values: readonly T[]): T {
  const parsed = z.enum(values as [T, ...T[]]).safeParse(raw.trim())
  if (!parsed.success) throw new InputError(input, `unknown value '${raw}'; use one of: ${values.join(', ')}`)
  return parsed.data
}

function number(input: string, raw: string, min: number, max: number, integer = true): number {
  const schema = (integer ? z.coerce.number().int() : z.coerce.number()).min(min).max(max)
  const parsed = schema.safeParse(raw.trim())
  if (raw.trim() === '' || !parsed.success) {
    throw new InputError(input, `'${raw}' is not ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}; give one in that range`)
  }
  return parsed.data
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Names whose values are secrets wherever they were given: masked and kept out of web.config like secret-env. */
const SECRET_LIKE = /SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL/i

/** Names the action sets itself (FastCGI registration or the release's appSettings); env must not override them. */
// SCRIPT_NAME follows app-path: wfastcgi's split of the URL path into SCRIPT_NAME and PATH_INFO depends on it.
const RESERVED_ENV = new Set(['DJANGO_SETTINGS_MODULE', 'PYTHONPATH', 'WSGI_HANDLER', 'WSGI_LOG', 'SCRIPT_NAME'])

export function parseEnv(input: string, raw: string, secret: boolean): EnvVar[] {
  const out: EnvVar[] = []
  raw.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return
    const eq = line.indexOf('=')
    const where = `line ${index + 1}`
    if (eq <= 0) throw new InputError(input, `${where} is not KEY=VALUE; write one KEY=VALUE a line`)
    const name = line.slice(0, eq).trim()
    const value = line.slice(eq + 1)
    if (!ENV_NAME.test(name)) {
      throw new InputError(
        input,
        `${where}: '${name}' is not a valid variable name; use letters, digits and _ and do not start with a digit`
      )
    }
    if (RESERVED_ENV.has(name.toUpperCase())) {
      throw new InputError(input, `${where}: ${name} is set by the action itself; use the matching input instead`)
    }
    if (value === '') throw new InputError(input, `${where}: ${name} has an empty value, which IIS refuses (appcmd exit 13); drop the line`)
    checkEnvValue(input, name, value, where)
    out.push({ name, value, secret: secret || (SECRET_LIKE.test(name) && value.length >= MIN_SECRET_LENGTH) })
  })
  return out
}

/** Splits pip-args and similar on whitespace, honouring double quotes (Windows paths with spaces). */
export function splitArgs(raw: string): string[] {
  const out: string[] = []
  const re = /"([^"]*)"|(\S+)/g
  let m: RegExpExecArray | null
  while ((m = re.exec(raw)) !== null) out.push(m[1] ?? m[2] ?? '')
  return out
}

/** The settings module manage.py sets, e.g. os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hello.settings'). */
export function settingsFromManagePy(source: string): string | undefined {
  const m = /DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([A-Za-z_][\w.]*)['"]/.exec(source)
  return m?.[1]
}

/** The file that defines a settings module: mod.py or the package's mod/__init__.py. */
export function settingsModuleFile(appDir: string, module: string): string | undefined {
  const base = path.join(appDir, ...module.split('.'))
  return [`${base}.py`, path.join(base, '__init__.py')].find(f => fs.existsSync(f))
}

export { derivePoolName }

function defaultVerifyUrl(appPath: string): string {
  return `http://localhost${appPath === '/' ? '/' : `${appPath}/`}`
}

function defaultReleaseId(env: NodeJS.ProcessEnv): string {
  if (env.GITHUB_RUN_ID) return `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
}

function httpUrl(input: string, raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InputError(input, `'${raw}' is not a URL; give a full http:// or https:// URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(input, `'${raw}' is not http(s); give an http:// or https:// URL`)
  }
  return url.toString()
}

/**
 * Reads and validates every input. Throws InputError naming the first bad input; touches nothing on disk
 * except to check that files the inputs name exist.
 */
export function getInputs(read: InputReader = actionInputs, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): DeployConfig {
  const get = (name: string): string => (read(name) ?? '').trim()
  const raw = (name: string): string => read(name) ?? ''

  const mode = oneOf('mode', get('mode') || 'deploy', ['deploy', 'stage', 'plan'] as const)
  const hosting = oneOf('hosting', get('hosting') || 'fastcgi', ['fastcgi', 'httpplatform'] as const)

  const appDir = path.resolve(cwd, get('app-dir') || '.')
  if (!fs.existsSync(appDir) || !fs.statSync(appDir).isDirectory()) {
    throw new InputError('app-dir', `folder ${appDir} does not exist; point app-dir at the folder that holds manage.py`)
  }
  const managePy = path.join(appDir, 'manage.py')
  if (!fs.existsSync(managePy)) {
    throw new InputError('app-dir', `${appDir} has no manage.py; point app-dir at the Django project's folder`)
  }

  const requirements = path.resolve(appDir, get('requirements') || 'requirements.txt')
  if (!fs.existsSync(requirements)) {
    throw new InputError('requirements', `${requirements} does not exist; commit a requirements file or set requirements to its path`)
  }

  const deployRoot = get('deploy-root')
  if (!deployRoot)
    throw new InputError('deploy-root', 'is required; set it to the server folder for releases, e.g. C:\\inetpub\\wwwroot\\app')
  checkText('deploy-root', deployRoot)
  const flavour = flavourOf(deployRoot)
  if (flavour === 'win32' && process.platform !== 'win32' && mode !== 'plan') {
    throw new InputError(
      'deploy-root',
      `'${deployRoot}' is a Windows path, but ${mode} mode builds the release on this ${process.platform} machine; use mode: plan here, or a local path`
    )
  }
  // On the Windows runner every deploy-root is win32-flavoured: a relative one must be refused there too.
  if (!pathApi(flavour).isAbsolute(deployRoot)) {
    throw new InputError('deploy-root', `'${deployRoot}' is not an absolute path; give a full path such as C:\\inetpub\\wwwroot\\app`)
  }
  checkDeployRoot(deployRoot, flavour, appDir)

  const siteName = get('site-name') || 'Default Web Site'
  checkText('site-name', siteName)
  if (siteName.includes('"') || siteName.includes('/')) {
    throw new InputError('site-name', 'must not contain " or /; use the site name as IIS Manager shows it')
  }

  const appPathRaw = get('app-path')
  if (!appPathRaw) throw new InputError('app-path', 'is required; give the IIS virtual path, e.g. /app')
  checkText('app-path', appPathRaw)
  if (!appPathRaw.startsWith('/')) throw new InputError('app-path', `'${appPathRaw}' must start with /, e.g. /${appPathRaw}`)
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(appPathRaw) || appPathRaw.includes('//')) {
    throw new InputError('app-path', `'${appPathRaw}' may hold only letters, digits, . _ ~ - and single / separators; remove the others`)
  }
  const appPath = appPathRaw.length > 1 ? appPathRaw.replace(/\/+$/, '') : '/'
  checkAppPathSegments(appPath)

  const appPool = get('app-pool') || derivePoolName(siteName, appPath)
  checkText('app-pool', appPool)
  // The characters IIS's applicationPoolName validator refuses (docs/input-rules.md).
  if (!/^[^|<>&\\"/[\]+=;:,?*@]+$/.test(appPool))
    throw new InputError(
      'app-pool',
      `'${appPool}' has characters IIS refuses in a pool name (| < > & \\ " / [ ] + = ; : , ? * @); remove them`
    )

  const { identity: poolIdentity, account: poolAccount } = parsePoolIdentity(get('pool-identity'), raw('pool-identity-password'))

  const anonymousUser = oneOf('anonymous-user', get('anonymous-user') || 'pool', ['pool', 'keep'] as const)

  let settingsModule = get('settings-module')
  if (!settingsModule) {
    settingsModule = settingsFromManagePy(fs.readFileSync(managePy, 'utf8')) ?? ''
    if (!settingsModule)
      throw new InputError('settings-module', 'manage.py does not set DJANGO_SETTINGS_MODULE; set settings-module, e.g. mysite.settings')
  }
  if (!/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(settingsModule)) {
    throw new InputError('settings-module', `'${settingsModule}' is not a Python module path; use dotted names such as mysite.settings`)
  }
  if (!settingsModuleFile(appDir, settingsModule)) {
    throw new InputError(
      'settings-module',
      `${settingsModule} is not importable from ${appDir} (no ${settingsModule.replace(/\./g, '/')}.py); fix settings-module or app-dir`
    )
  }

  const envVars = [...parseEnv('env', raw('env'), false), ...parseEnv('secret-env', raw('secret-env'), true)]
  const seen = new Set<string>()
  for (const v of envVars) {
    const key = v.name.toUpperCase()
    if (seen.has(key)) throw new InputError(v.secret ? 'secret-env' : 'env', `${v.name} is set twice (across env and secret-env); keep one`)
    seen.add(key)
  }

  const auth = parseAuth(get('auth'), bool('shibboleth', get('shibboleth')), hosting)
  const shibEnabled = auth === 'shibboleth'
  if (shibEnabled && hosting === 'httpplatform') {
    throw new InputError(
      'hosting',
      'httpplatform cannot be used with shibboleth: REMOTE_USER does not cross HttpPlatformHandler, and identity passed in headers can be spoofed; use hosting fastcgi'
    )
  }

  const verifyUrl = get('verify-url') ? httpUrl('verify-url', get('verify-url')) : defaultVerifyUrl(appPath)
  const bodyRaw = get('verify-body')
  let body: VerifyConfig['body']
  if (bodyRaw.length > 2 && bodyRaw.startsWith('/') && bodyRaw.endsWith('/')) {
    const source = bodyRaw.slice(1, -1)
    try {
      new RegExp(source)
    } catch (e) {
      throw new InputError(
        'verify-body',
        `/${source}/ is not a valid regular expression (${(e as Error).message}); fix it, or give plain text without the enclosing slashes`
      )
    }
    body = { regex: source }
  } else if (bodyRaw) {
    body = { text: bodyRaw }
  }
  const extraUrls = raw('verify-urls')
    .split(/\r?\n/)
    .map(s => s.trim())
    .filter(Boolean)
    .map(u => httpUrl('verify-urls', u))
  const caBundle = get('verify-ca-bundle')
  if (caBundle && !fs.existsSync(caBundle)) throw new InputError('verify-ca-bundle', `${caBundle} does not exist; give a PEM file`)

  if (shibEnabled && !get('shibboleth-host') && !get('verify-url')) {
    throw new InputError(
      'shibboleth-host',
      'is required with shibboleth: true (or set verify-url): the SP maps requests by host name, and a guess would protect the wrong one'
    )
  }
  const shibHost = get('shibboleth-host') || new URL(verifyUrl).hostname
  const remoteUser = get('remote-user').split(/\s+/).filter(Boolean)
  for (const id of remoteUser) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(id))
      throw new InputError('remote-user', `'${id}' is not an attribute id; list ids separated by spaces, e.g. eppn subject-id`)
  }
  const check = splitArgs(get('shibboleth-check'))
  if (shibEnabled && check.length === 0)
    throw new InputError('shibboleth-check', `is empty; give the SP check command, e.g. ${DEFAULT_CHECK}`)

  const httpPlatformCommand = get('httpplatform-command')
  if (hosting === 'httpplatform' && /(^|[\s\\/])gunicorn(\.exe)?(\s|$)/i.test(httpPlatformCommand)) {
    throw new InputError('httpplatform-command', 'gunicorn does not run on Windows; leave the input empty for waitress, or use uvicorn')
  }
  if (httpPlatformCommand && !httpPlatformCommand.includes('%HTTP_PLATFORM_PORT%')) {
    throw new InputError(
      'httpplatform-command',
      'must contain %HTTP_PLATFORM_PORT%, the port HttpPlatformHandler proxies to; put it where your server takes its port'
    )
  }

  const preflightPath = get('preflight-path') || '/'
  if (!preflightPath.startsWith('/')) throw new InputError('preflight-path', `'${preflightPath}' must start with /`)

  const templatesDir = get('templates') ? path.resolve(cwd, get('templates')) : ''
  if (templatesDir && !fs.existsSync(templatesDir))
    throw new InputError(
      'templates',
      `folder ${templatesDir} does not exist; point templates at a folder of *.hbs files, or leave it empty`
    )

  const releaseId = get('release-id') || defaultReleaseId(env)
  checkLength('release-id', releaseId)
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(releaseId)) {
    throw new InputError(
      'release-id',
      `'${releaseId}' must be letters, digits, . _ - and start with a letter or digit (it names a folder); use those only`
    )
  }

  return {
    mode,
    appDir,
    requirements,
    python: get('python') || (process.platform === 'win32' ? 'python' : 'python3'),
    pipArgs: splitArgs(get('pip-args')),
    venvSystemSitePackages: bool('venv-system-site-packages', get('venv-system-site-packages')),
    wfastcgi: get('wfastcgi') || 'wfastcgi==3.0.0',
    staticServedElsewhere: bool('static-served-elsewhere', get('static-served-elsewhere')),
    deployRoot,
    flavour,
    siteName,
    appPath,
    appPool,
    appPoolGiven: get('app-pool') !== '',
    poolIdentity,
    ...(poolAccount ? { poolAccount } : {}),
    auth,
    anonymousUser,
    settingsModule,
    env: envVars,
    hosting,
    httpPlatformCommand,
    httpPlatformPackage: get('httpplatform-package') || 'waitress',
    shibboleth: {
      enabled: shibEnabled,
      configPath: get('shibboleth-config') || DEFAULTS['shibboleth-config'],
      host: shibHost,
      hostFromVerifyUrl: !get('shibboleth-host'),
      remoteUser,
      check,
      service: get('shibboleth-service') || 'shibd_Default',
      requireRemoteUser: bool('require-remote-user', get('require-remote-user') || 'true')
    },
    verify: {
      url: verifyUrl,
      urlFromBinding: !get('verify-url'),
      status: number('verify-status', get('verify-status') || '200', 100, 599),
      body,
      extraUrls,
      hostHeader: get('verify-host'),
      requestTimeoutMs: number('verify-request-timeout', get('verify-request-timeout') || '10', 0.1, 600, false) * 1000,
      totalTimeoutMs: number('verify-timeout', get('verify-timeout') || '120', 0, 3600, false) * 1000,
      intervalMs: number('verify-interval', get('verify-interval') || '0.25', 0.01, 60, false) * 1000,
      caBundle,
      insecure: bool('verify-insecure', get('verify-insecure')),
      followRedirects: bool('verify-follow-redirects', get('verify-follow-redirects')),
      checkStatic: bool('verify-static', get('verify-static') || 'true')
    },
    preflightPath,
    outputDir: path.resolve(
      cwd,
      get('output-dir') || path.join(env.RUNNER_TEMP || cwd, env.RUNNER_TEMP ? 'django-iis-deploy' : 'iis-deploy-output')
    ),
    templatesDir,
    appcmd: expandWindowsVars(get('appcmd') || DEFAULTS.appcmd, env),
    icacls: get('icacls') || 'icacls',
    keepReleases: number('keep-releases', get('keep-releases') || '5', 2, 1000),
    keepBackups: number('keep-backups', get('keep-backups') || '5', 1, 1000),
    lockTimeoutMs: number('lock-timeout', get('lock-timeout') || '600', 0, 86400, false) * 1000,
    lockDir: lockDirInput(get('lock-dir'), env),
    releaseId
  }
}

/** %windir% and friends, as cmd.exe would expand them; unknown names stay as written. */
export function expandWindowsVars(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/%([A-Za-z_][A-Za-z0-9_]*)%/g, (whole, name: string) => {
    const key = Object.keys(env).find(k => k.toLowerCase() === name.toLowerCase())
    return key !== undefined && env[key] !== undefined ? env[key] : whole
  })
}

/** A relative lock-dir would differ between checkouts, and runs that must take turns would not meet. */
function lockDirInput(value: string, env: NodeJS.ProcessEnv): string {
  if (!value) return defaultServerLockDir(env)
  if (!path.isAbsolute(value) && !path.win32.isAbsolute(value))
    throw new InputError('lock-dir', `'${value}' must be an absolute folder, the same for every deploy on this server`)
  return value
}
