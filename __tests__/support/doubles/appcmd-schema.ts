// The configuration sections the double knows (only what the product touches): their attributes, collections
// and the key attributes that make a collection entry unique (docs/windows-facts.md, ac-indexer, ac-dup-entry).

export interface CollectionSchema {
  add: string
  keys: string[]
  attrs: string[]
  children?: Record<string, SectionSchema>
}

export interface SectionSchema {
  attrs?: string[]
  collection?: CollectionSchema
  children?: Record<string, SectionSchema>
  /** Set while walking into a collection entry: the collection the entry belongs to. */
  itemOf?: CollectionSchema
}

const ENV_VARS: SectionSchema = { collection: { add: 'environmentVariable', keys: ['name'], attrs: ['name', 'value'] } }
const FASTCGI_APP_ATTRS = [
  'fullPath',
  'arguments',
  'maxInstances',
  'idleTimeout',
  'activityTimeout',
  'requestTimeout',
  'instanceMaxRequests',
  'protocol',
  'queueLength',
  'flushNamedPipe',
  'rapidFailsPerMinute',
  'signalBeforeTerminateSeconds',
  'stderrMode',
  'monitorChangesTo'
]
export const SCHEMA: Record<string, SectionSchema> = {
  'system.webServer/fastCgi': {
    attrs: [],
    collection: {
      add: 'application',
      keys: ['fullPath', 'arguments'],
      attrs: FASTCGI_APP_ATTRS,
      children: { environmentVariables: ENV_VARS }
    }
  },
  'system.webServer/httpPlatform': {
    attrs: [
      'processPath',
      'arguments',
      'stdoutLogEnabled',
      'stdoutLogFile',
      'startupTimeLimit',
      'startupRetryCount',
      'rapidFailsPerMinute',
      'requestTimeout',
      'processesPerApplication',
      'forwardWindowsAuthToken'
    ],
    children: { environmentVariables: ENV_VARS }
  },
  'system.webServer/handlers': {
    attrs: ['accessPolicy'],
    collection: {
      add: 'add',
      keys: ['name'],
      attrs: ['name', 'path', 'verb', 'modules', 'scriptProcessor', 'resourceType', 'requireAccess', 'preCondition', 'type']
    }
  },
  'system.webServer/security/authentication/anonymousAuthentication': { attrs: ['enabled', 'userName', 'password', 'logonMethod'] },
  // Windows Authentication and the runtime's file-access user (docs/windows-facts.md, ac-windows-auth, ac-auth-user-override).
  'system.webServer/security/authentication/windowsAuthentication': {
    attrs: ['enabled', 'useKernelMode', 'useAppPoolCredentials', 'authPersistNonNTLM', 'authPersistSingleRequest'],
    children: { providers: { collection: { add: 'add', keys: ['value'], attrs: ['value'] } } }
  },
  'system.webServer/serverRuntime': { attrs: ['enabled', 'authenticatedUserOverride', 'uploadReadAheadSize'] },
  'system.webServer/defaultDocument': {
    attrs: ['enabled'],
    children: { files: { collection: { add: 'add', keys: ['value'], attrs: ['value'] } } }
  },
  // Modules IIS loads for every request; Application Initialization's is looked for by warm-up (docs/windows-facts.md, ai-module).
  'system.webServer/globalModules': {
    attrs: [],
    collection: { add: 'add', keys: ['name'], attrs: ['name', 'image', 'preCondition'] }
  },
  'system.webServer/staticContent': {
    attrs: [],
    collection: { add: 'mimeMap', keys: ['fileExtension'], attrs: ['fileExtension', 'mimeType'] }
  }
}

// Pool passwords (docs/windows-facts.md, ac-pool-password): appcmd writes processModel.password encrypted by the
// system.applicationHost provider, IISWASOnlyRsaProvider, in the [enc:<provider>:<data>:enc] form. The double's
// "encryption" is base64 of the reversed text, enough that the clear password never appears in the file; a
// /config read shows it decrypted (the worst case for leaks).
const ENCRYPTED = /^\[enc:([A-Za-z]+):([A-Za-z0-9+/=]*):enc\]$/
export const encryptPassword = (clear: string): string =>
  `[enc:IISWASOnlyRsaProvider:${Buffer.from([...clear].reverse().join(''), 'utf8').toString('base64')}:enc]`
export function decryptPassword(stored: string): string {
  const m = ENCRYPTED.exec(stored)
  return m ? [...Buffer.from(m[2] ?? '', 'base64').toString('utf8')].reverse().join('') : stored
}

export const IDENTITY_TYPES = ['ApplicationPoolIdentity', 'LocalSystem', 'LocalService', 'NetworkService', 'SpecificUser']

// Application Initialization's attributes (docs/windows-facts.md, ai-start-mode, ai-preload): the pool's startMode
// is an enum, the application's preloadEnabled a boolean; appcmd refuses other values.
export const START_MODES = ['AlwaysRunning', 'OnDemand']
export const BOOLEANS = ['true', 'false']
