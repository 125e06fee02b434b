// The action's inputs, for the modules that take the typed settings: src/inputs/ reads them, once, in getInputs.
export type {
  AuthMode,
  DeployConfig,
  EnvVar,
  Hosting,
  InputReader,
  Mode,
  PoolAccount,
  PoolIdentity,
  ShibbolethConfig,
  VerifyConfig
} from './inputs/types.js'
export { actionInputs, getInputs } from './inputs/read.js'
export { derivePoolName } from './inputs/pool-name.js'
export { expandWindowsVars, splitArgs } from './inputs/primitives.js'
export { parseEnv } from './inputs/env-vars.js'
export { settingsFromManagePy, settingsModuleFile } from './python/project.js'
