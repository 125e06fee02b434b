import { InputError } from '../errors.js'
import { MIN_SECRET_LENGTH } from '../masking.js'
import { checkEnvValue } from './rules.js'
import type { EnvVar } from './types.js'

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

/** env and secret-env together; a name may appear once across both, as IIS keeps one value per name. */
export function readEnvVars(env: string, secretEnv: string): EnvVar[] {
  const envVars = [...parseEnv('env', env, false), ...parseEnv('secret-env', secretEnv, true)]
  const seen = new Set<string>()
  for (const v of envVars) {
    const key = v.name.toUpperCase()
    if (seen.has(key)) throw new InputError(v.secret ? 'secret-env' : 'env', `${v.name} is set twice (across env and secret-env); keep one`)
    seen.add(key)
  }
  return envVars
}
