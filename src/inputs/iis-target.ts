import { InputError } from '../errors.js'
import { flavourOf, pathApi } from '../layout.js'
import { parsePoolIdentity } from './identity.js'
import { derivePoolName } from './pool-name.js'
import { oneOf } from './primitives.js'
import { checkAppPathSegments, checkDeployRoot, checkText } from './rules.js'
import type { DeployConfig, InputValue, Mode } from './types.js'

export type IisTargetInputs = Pick<
  DeployConfig,
  'deployRoot' | 'flavour' | 'siteName' | 'appPath' | 'appPool' | 'appPoolGiven' | 'poolIdentity' | 'poolAccount' | 'anonymousUser'
>

function readDeployRoot(get: InputValue, mode: Mode, appDir: string): Pick<DeployConfig, 'deployRoot' | 'flavour'> {
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
  return { deployRoot, flavour }
}

function readAppPath(get: InputValue): string {
  const appPathRaw = get('app-path')
  if (!appPathRaw) throw new InputError('app-path', 'is required; give the IIS virtual path, e.g. /app')
  checkText('app-path', appPathRaw)
  if (!appPathRaw.startsWith('/')) throw new InputError('app-path', `'${appPathRaw}' must start with /, e.g. /${appPathRaw}`)
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(appPathRaw) || appPathRaw.includes('//')) {
    throw new InputError('app-path', `'${appPathRaw}' may hold only letters, digits, . _ ~ - and single / separators; remove the others`)
  }
  const appPath = appPathRaw.length > 1 ? appPathRaw.replace(/\/+$/, '') : '/'
  checkAppPathSegments(appPath)
  return appPath
}

/** Where on the server and in IIS the app goes: deploy-root, site, app path, pool and who the pool runs as. */
/** poolPassword is read raw: a password may begin or end with a space. */
export function readIisTarget(get: InputValue, mode: Mode, appDir: string, poolPassword: string): IisTargetInputs {
  const { deployRoot, flavour } = readDeployRoot(get, mode, appDir)

  const siteName = get('site-name')
  checkText('site-name', siteName)
  if (siteName.includes('"') || siteName.includes('/')) {
    throw new InputError('site-name', 'must not contain " or /; use the site name as IIS Manager shows it')
  }

  const appPath = readAppPath(get)

  const appPool = get('app-pool') || derivePoolName(siteName, appPath)
  checkText('app-pool', appPool)
  // The characters IIS's applicationPoolName validator refuses (docs/input-rules.md).
  if (!/^[^|<>&\\"/[\]+=;:,?*@]+$/.test(appPool))
    throw new InputError(
      'app-pool',
      `'${appPool}' has characters IIS refuses in a pool name (| < > & \\ " / [ ] + = ; : , ? * @); remove them`
    )

  const { identity: poolIdentity, account: poolAccount } = parsePoolIdentity(get('pool-identity'), poolPassword)
  const anonymousUser = oneOf('anonymous-user', get('anonymous-user'), ['pool', 'keep'] as const)

  return {
    deployRoot,
    flavour,
    siteName,
    appPath,
    appPool,
    appPoolGiven: get('app-pool') !== '',
    poolIdentity,
    ...(poolAccount ? { poolAccount } : {}),
    anonymousUser
  }
}
