import type { TemplateSet } from '../render/templates.js'
import { patchShibbolethConfig, pathName, type ShibbolethWant } from './patch.js'

/** The SP's shipped default, used when remote-user is not given. */
export const DEFAULT_REMOTE_USER = ['eppn', 'subject-id', 'pairwise-id', 'persistent-id']

/**
 * A minimal shibboleth2.xml for IIS when the server has none, from the shibboleth2.xml template (which the
 * templates input may replace). The result goes through the patcher too, so a replaced template that lacks our
 * parts still gets them.
 */
export function renderFreshConfig(want: ShibbolethWant, templates: TemplateSet): string {
  const rendered = templates.render('shibboleth2.xml', {
    siteId: want.siteId,
    host: want.host,
    pathName: pathName(want.appPath),
    remoteUser: (want.remoteUser.length > 0 ? want.remoteUser : DEFAULT_REMOTE_USER).join(' '),
    entityId: `https://${want.host}/shibboleth`
  })
  return patchShibbolethConfig(rendered, want).text
}
