import type { Flavour } from '../layout.js'
import type { InputName } from './defaults.js'

export type Mode = 'deploy' | 'stage' | 'plan' | 'doctor' | 'rollback'
export type Hosting = 'fastcgi' | 'httpplatform'
import type { AuthMode } from './auth.js'
import type { PoolAccount, PoolIdentity } from './identity.js'
import type { SharedPaths } from './shared-paths.js'

export type { AuthMode, PoolAccount, PoolIdentity, SharedPaths }

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
  /** IIS Application Initialization: pool AlwaysRunning, app preloaded, one request after the recycle. */
  warmUp: boolean
  /** Serve and verify the release through a temporary loopback IIS site before the switch (docs/pre-switch.md). */
  verifyBeforeSwitch: boolean
  /** Another server serves the static files: STATIC_URL may point anywhere, no static vdir is made or checked. */
  staticServedElsewhere: boolean
  /** shared-dirs and shared-files: paths of the project kept in deploy-root/shared/ (src/shared/). */
  shared: SharedPaths
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
  /** migrate: manage.py migrate --noinput in the new release before the switch (src/migrations/). */
  migrate: boolean
  /** release-commands: management commands (argv each) run after migrate, before the switch. */
  releaseCommands: string[][]
  /** mode: rollback with release-id set: the release to go back to (src/rollback/choose.ts). */
  rollbackTo?: string
}

/** Reads one input as the runner passes it; '' when it was not given. */
export type InputReader = (name: string) => string

/** One input trimmed, with action.yml's default (src/inputs/defaults.ts) when it was empty. */
export type InputValue = (name: InputName) => string
