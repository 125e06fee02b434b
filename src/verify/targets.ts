/** What verify checks of a release: its static file, and the SSO and Windows-auth targets its config asks for. */
import fs from 'node:fs'
import type { DeployConfig } from '../config.js'
import { readReleaseAt } from '../releases.js'
import { decodeXml } from '../shibboleth/encoding.js'
import { sessionHandlerPath } from '../shibboleth/patch.js'
import { contentTypeFor, pickStaticFile, staticUrl, type SsoHandlerTarget, type VerifyPlan } from './checks.js'

/** The SP's Session handler on the verified site: `<handlerURL path>/Session`, /Shibboleth.sso/Session by default. */
function ssoHandlerTarget(config: VerifyTargetConfig, siteId: number): SsoHandlerTarget {
  let handlerPath = '/Shibboleth.sso'
  try {
    handlerPath = sessionHandlerPath(decodeXml(fs.readFileSync(config.shibboleth.configPath)).text)
  } catch {
    // No file to read: the SP's default handler path.
  }
  return { url: new URL(`${handlerPath}/Session`, config.verify.url).href, siteId, host: config.shibboleth.host }
}

/** What verify checks of one release's static files: a collected file at the URL its pages link. */
export interface StaticTarget {
  files: readonly string[]
  /** The URL the preflight saw the app render for the file verify picks (a path on the site, or absolute). */
  checkUrl?: string
  /** The files are served elsewhere (static-served-elsewhere): nothing of ours to check. */
  elsewhere: boolean
}

/** What of the config the verify targets depend on. */
export type VerifyTargetConfig = Pick<DeployConfig, 'appPath' | 'verify'> &
  Partial<Pick<DeployConfig, 'auth'>> & {
    shibboleth: Pick<DeployConfig['shibboleth'], 'enabled' | 'configPath' | 'host'>
  }

export function verifyTargets(
  config: VerifyTargetConfig,
  target: StaticTarget,
  siteId: number
): Pick<VerifyPlan, 'staticFile' | 'protectedPath' | 'ssoHandler' | 'windowsAuth'> {
  const sso = config.shibboleth.enabled
  const file = pickStaticFile([...target.files])
  // A release staged before the rendered URL was recorded served its files at <app>/static.
  const url = target.checkUrl
    ? new URL(target.checkUrl, config.verify.url).toString()
    : file
      ? staticUrl(new URL(config.appPath, config.verify.url).toString(), '/static', file)
      : undefined
  return {
    // Static files live under the protected path too, so with SSO they redirect like the app does.
    ...(file && url && !sso && !target.elsewhere ? { staticFile: { url, expectedContentType: contentTypeFor(file) } } : {}),
    ...(sso ? { protectedPath: { url: config.verify.url }, ssoHandler: ssoHandlerTarget(config, siteId) } : {}),
    ...(config.auth === 'windows' ? { windowsAuth: true } : {})
  }
}

/** The static files of the release a physical path serves, from its manifest; none when it is not ours. */
export function staticTargetAt(physicalPath: string | undefined, elsewhere: boolean): StaticTarget {
  const meta = physicalPath ? readReleaseAt(physicalPath) : undefined
  return { files: meta?.staticFiles ?? [], ...(meta?.staticCheckUrl ? { checkUrl: meta.staticCheckUrl } : {}), elsewhere }
}
