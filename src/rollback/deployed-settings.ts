/**
 * What of a deploy's inputs a rollback to its release needs again: the FastCGI registration's variables and the
 * settings module live in applicationHost.config, not in the release folder, so release.json records them when the
 * release goes live. Secret values are not recorded (release.json lies under the web root): only their names.
 */
import type { DeployConfig, EnvVar } from '../config.js'
import { InputError } from '../errors.js'
import type { Hosting } from '../inputs/types.js'
import type { Log } from '../log.js'
import type { StageFacts } from '../plan/desired.js'

export interface RecordedVariable {
  name: string
  /** Absent for a secret one: its value comes from the rollback run's secret-env. */
  value?: string
  secret: boolean
}

export interface DeployedSettings {
  hosting: Hosting
  settingsModule: string
  env: RecordedVariable[]
  /** The venv's interpreter (major.minor) and its base install, which the pool identity is granted to read. */
  pythonVersion: string
  pythonHome: string
}

export function deployedSettings(config: DeployConfig, facts: StageFacts): DeployedSettings {
  return {
    hosting: config.hosting,
    settingsModule: config.settingsModule,
    env: config.env.map(v => (v.secret ? { name: v.name, secret: true } : { name: v.name, value: v.value, secret: false })),
    pythonVersion: facts.pythonVersion,
    pythonHome: facts.pythonHome
  }
}

/**
 * The run's config with the settings `releaseId` was deployed with: its variables and their values, secret ones
 * from this run's secret-env (a secret the release had that the run does not give stops it, naming the input).
 * A release recorded before this existed is restored with this run's variables, as the run says.
 */
export function configForRelease(config: DeployConfig, releaseId: string, recorded: DeployedSettings | undefined, log: Log): DeployConfig {
  if (!recorded) {
    log.warning(`release ${releaseId} does not record the variables it was deployed with: it gets this run's env and secret-env`)
    return config
  }
  const secrets = new Map(config.env.filter(v => v.secret).map(v => [v.name.toUpperCase(), v]))
  const missing = recorded.env.filter(v => v.secret && !secrets.has(v.name.toUpperCase())).map(v => v.name)
  if (missing.length > 0) {
    throw new InputError(
      'secret-env',
      `release ${releaseId} was deployed with secret ${missing.join(', ')}, which this run does not set; pass the same secret-env as its deploy`
    )
  }
  const env: EnvVar[] = recorded.env.map(v =>
    v.secret ? { ...(secrets.get(v.name.toUpperCase()) as EnvVar), name: v.name } : { name: v.name, value: v.value ?? '', secret: false }
  )
  if (recorded.hosting !== config.hosting) {
    log.warning(`release ${releaseId} was deployed with hosting: ${recorded.hosting}; the rollback restores that, not ${config.hosting}`)
  }
  return { ...config, env, hosting: recorded.hosting, settingsModule: recorded.settingsModule }
}
