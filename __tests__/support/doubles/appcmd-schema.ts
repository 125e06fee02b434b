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
  'system.webServer/defaultDocument': {
    attrs: ['enabled'],
    children: { files: { collection: { add: 'add', keys: ['value'], attrs: ['value'] } } }
  },
  'system.webServer/staticContent': {
    attrs: [],
    collection: { add: 'mimeMap', keys: ['fileExtension'], attrs: ['fileExtension', 'mimeType'] }
  }
}
export const IDENTITY_TYPES = ['ApplicationPoolIdentity', 'LocalSystem', 'LocalService', 'NetworkService', 'SpecificUser']
