import type { DeployConfig } from '../config.js'
import type { ShibbolethTarget } from './apply.js'

/** The SP changes one deploy asks for; the site id comes from IIS (plan mode, which reads none, assumes 1). */
export function shibbolethTarget(config: DeployConfig, siteId: number): ShibbolethTarget {
  return {
    configPath: config.shibboleth.configPath,
    site: config.siteName,
    want: { siteId, host: config.shibboleth.host, appPath: config.appPath, remoteUser: config.shibboleth.remoteUser },
    check: config.shibboleth.check,
    service: config.shibboleth.service
  }
}
