import type { AuthMode, EnvVar, Hosting, PoolAccount, PoolIdentity } from '../config.js'
import type { AppLocation } from '../iis/app-location.js'
import type { StaticLocation } from './static-location.js'

/** What IIS must look like for this app when the deploy is done (pure data, derived from config and facts). */
export interface DesiredState {
  hosting: Hosting
  pool: {
    name: string
    identity: PoolIdentity
    /** identityType SpecificUser: the account and its password (a secret). */
    account?: PoolAccount
    /** Who the file grants name: the account, or `IIS AppPool\<pool>`. */
    principal?: string
    /** '' = No Managed Code: Python needs no CLR. */
    managedRuntimeVersion: ''
  }
  /** Where the app lives (src/iis/app-location.ts names it for appcmd), what serves it, and from where. */
  app: AppLocation & {
    pool: string
    /** The release folder the app's root virtual directory serves. */
    physicalPath: string
  }
  /** Where pages link static files (from STATIC_URL), and so whether a static vdir is made at all. */
  staticLocation: StaticLocation
  /** Absent when the static files are served elsewhere. */
  staticVdir?: {
    /** Virtual path under the app, from STATIC_URL: e.g. '/static', '/assets/css'. */
    path: string
    physicalPath: string
  }
  /** Folder of our releases: a vdir of the app (other than its root) serving from here and not desired is a stale static vdir. */
  ownedStaticPrefix: string
  /** Present for hosting fastcgi. */
  fastCgi?: {
    fullPath: string
    arguments: string
    /** The registration's variables (appEnvironment): the same from release to release. */
    env: EnvVar[]
  }
  /** hosting httpplatform: secret env set location-scoped in applicationHost.config, never in web.config. */
  httpPlatformSecretEnv: EnvVar[]
  /** Who may use the app, set at the app's location (src/plan/auth-ops.ts). */
  auth?: { mode: AuthMode; useAppPoolCredentials: boolean }
  /** Anonymous requests at the app run as the pool identity (input anonymous-user: pool). */
  anonymousAsPool: boolean
  /** IIS Application Initialization for the app: pool startMode AlwaysRunning, app preloadEnabled (src/plan/warm-up-ops.ts); absent is off. */
  warmUp?: boolean
  /** Folder whose venvs are ours: a FastCGI application whose fullPath starts here and is not desired is stale. */
  ownedPrefix: string
  acl: AclGrant[]
}

export interface AclGrant {
  path: string
  /** icacls permission, e.g. '(OI)(CI)RX' or '(OI)(CI)M'. */
  permission: string
  why: string
}

/** 'verify': the HTTP checks of the temporary site before the switch (src/plan/pre-switch-ops.ts). */
export type Tool = 'appcmd' | 'icacls' | 'file' | 'shibboleth' | 'verify'

/** One step of the plan: printed in plan.json and the log, executed by apply. */
export interface Operation {
  tool: Tool
  argv: string[]
  why: string
  /** False for reads (list, backup listing): they never need a backup or an undo. */
  mutates: boolean
  /** Values inside argv that must reach the tool but be masked wherever the operation is printed or logged. */
  secrets?: string[]
}

/**
 * Where a step stands in a deploy. The order of a plan's steps is the order of this list: the SP configuration
 * (checked before IIS is touched), the IIS backup, the pool, the grants, the changes the switch needs, the
 * temporary site that proves the release through IIS, its check and its removal, the switch, what follows it, the recycle, the SP's pools, the old backups.
 */
export const PHASES = [
  'sp-config',
  'backup',
  'pool',
  'grants',
  'before-switch',
  'pre-switch',
  'pre-switch-verify',
  'pre-switch-remove',
  'switch',
  'after-switch',
  'recycle',
  'sp-recycle',
  'prune-backups'
] as const
export type Phase = (typeof PHASES)[number]

/** One step of a deploy plan: what plan.json shows and what apply runs, in this order. */
export interface Step extends Operation {
  phase: Phase
  /** A failure warns instead of failing the deploy (housekeeping after the app is live). */
  bestEffort?: boolean
}
