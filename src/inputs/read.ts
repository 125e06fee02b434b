import * as core from '../workflow-commands.js'
import fs from 'node:fs'
import path from 'node:path'
import { parseAuth } from './auth.js'
import { InputError } from '../errors.js'
import { defaultServerLockDir } from './server-lock-dir.js'
import { INPUT_DEFAULTS, type InputName } from './defaults.js'
import { readEnvVars } from './env-vars.js'
import { checkShibbolethHosting, readHttpPlatformCommand, readShibboleth } from './hosting.js'
import { readIisTarget } from './iis-target.js'
import { bool, expandWindowsVars, number, oneOf, splitArgs } from './primitives.js'
import { readReleaseCommands } from './release-commands.js'
import { readProject, readSettingsModule } from './project.js'
import { checkLength } from './rules.js'
import { readSharedPaths } from './shared-paths.js'
import type { DeployConfig, InputReader } from './types.js'
import { readVerifyChecks, readVerifyTargets, readVerifyUrl } from './verify.js'

/** Reads inputs the way the runner passes them; getInputs fills in action.yml's defaults for empty ones. */
export const actionInputs: InputReader = name => core.getInput(name)

/** action.yml: an empty release-id means the run id and attempt, or a timestamp outside GitHub Actions. */
function defaultReleaseId(env: NodeJS.ProcessEnv): string {
  if (env.GITHUB_RUN_ID) return `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
}

function readReleaseId(value: string, env: NodeJS.ProcessEnv): string {
  const releaseId = value || defaultReleaseId(env)
  checkLength('release-id', releaseId)
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(releaseId)) {
    throw new InputError(
      'release-id',
      `'${releaseId}' must be letters, digits, . _ - and start with a letter or digit (it names a folder); use those only`
    )
  }
  return releaseId
}

/** A relative lock-dir would differ between checkouts, and runs that must take turns would not meet. */
function readLockDir(value: string, env: NodeJS.ProcessEnv): string {
  if (!value) return defaultServerLockDir(env)
  if (!path.isAbsolute(value) && !path.win32.isAbsolute(value))
    throw new InputError('lock-dir', `'${value}' must be an absolute folder, the same for every deploy on this server`)
  return value
}

/** action.yml: an empty output-dir means RUNNER_TEMP/django-iis-deploy (iis-deploy-output in cwd outside a runner). */
function readOutputDir(value: string, env: NodeJS.ProcessEnv, cwd: string): string {
  return path.resolve(cwd, value || path.join(env.RUNNER_TEMP || cwd, env.RUNNER_TEMP ? 'django-iis-deploy' : 'iis-deploy-output'))
}

function readTemplatesDir(value: string, cwd: string): string {
  const templatesDir = value ? path.resolve(cwd, value) : ''
  if (templatesDir && !fs.existsSync(templatesDir))
    throw new InputError(
      'templates',
      `folder ${templatesDir} does not exist; point templates at a folder of *.hbs files, or leave it empty`
    )
  return templatesDir
}

/**
 * Reads and validates every input. Throws InputError naming the first bad input; touches nothing on disk
 * except to check that files the inputs name exist.
 */
export function getInputs(read: InputReader = actionInputs, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): DeployConfig {
  const get = (name: InputName): string => (read(name) ?? '').trim() || INPUT_DEFAULTS[name]

  const mode = oneOf('mode', get('mode'), ['deploy', 'stage', 'plan', 'doctor', 'rollback'] as const)
  const hosting = oneOf('hosting', get('hosting'), ['fastcgi', 'httpplatform'] as const)
  const project = readProject(get, cwd)
  const target = readIisTarget(get, mode, project.appDir, read('pool-identity-password') ?? '')
  const settingsModule = readSettingsModule(get, project)
  // env and secret-env keep their lines' own spacing: a value may end in a space.
  const envVars = readEnvVars(read('env') ?? '', read('secret-env') ?? '')

  const auth = parseAuth(get('auth'), bool('shibboleth', get('shibboleth')), hosting)
  const shibEnabled = auth === 'shibboleth'
  checkShibbolethHosting(shibEnabled, hosting)
  const verifyUrl = readVerifyUrl(get, target.appPath)
  const verifyTargets = readVerifyTargets(get, verifyUrl)
  const shibboleth = readShibboleth(get, shibEnabled, verifyUrl)
  const httpPlatformCommand = readHttpPlatformCommand(get, hosting)

  const preflightPath = get('preflight-path')
  if (!preflightPath.startsWith('/')) throw new InputError('preflight-path', `'${preflightPath}' must start with /`)
  const templatesDir = readTemplatesDir(get('templates'), cwd)
  const releaseId = readReleaseId(get('release-id'), env)
  const shared = readSharedPaths(get)

  return {
    mode,
    appDir: project.appDir,
    requirements: project.requirements,
    // action.yml: an empty python means python on Windows, python3 elsewhere.
    python: get('python') || (process.platform === 'win32' ? 'python' : 'python3'),
    pipArgs: splitArgs(get('pip-args')),
    venvSystemSitePackages: bool('venv-system-site-packages', get('venv-system-site-packages')),
    wfastcgi: get('wfastcgi'),
    staticServedElsewhere: bool('static-served-elsewhere', get('static-served-elsewhere')),
    warmUp: bool('warm-up', get('warm-up')),
    verifyBeforeSwitch: bool('verify-before-switch', get('verify-before-switch')),
    ...target,
    auth,
    shared,
    settingsModule,
    env: envVars,
    hosting,
    httpPlatformCommand,
    httpPlatformPackage: get('httpplatform-package'),
    shibboleth,
    verify: { ...verifyTargets, ...readVerifyChecks(get) },
    preflightPath,
    outputDir: readOutputDir(get('output-dir'), env, cwd),
    templatesDir,
    appcmd: expandWindowsVars(get('appcmd'), env),
    icacls: get('icacls'),
    keepReleases: number('keep-releases', get('keep-releases'), 2, 1000),
    keepBackups: number('keep-backups', get('keep-backups'), 1, 1000),
    lockTimeoutMs: number('lock-timeout', get('lock-timeout'), 0, 86400, false) * 1000,
    lockDir: readLockDir(get('lock-dir'), env),
    releaseId,
    migrate: bool('migrate', get('migrate')),
    releaseCommands: readReleaseCommands(read('release-commands') ?? ''),
    // Only a release-id the run was given names a release to go back to; the default one names this run.
    ...(mode === 'rollback' && get('release-id') ? { rollbackTo: releaseId } : {})
  }
}
