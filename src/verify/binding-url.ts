import type { DeployConfig } from '../config.js'
import type { CurrentState } from '../iis/state.js'
import type { Log } from '../log.js'

/**
 * The URL of an app on its site's first http(s) binding. appcmd writes a binding as
 * `protocol/ip:port:host`, e.g. `http/*:80:` (docs/windows-facts.md, ac-list-text); an empty host or `*` ip means any name, so localhost answers.
 */
export function urlFromBindings(
  bindings: readonly { protocol: string; bindingInformation: string }[],
  appPath: string
): string | undefined {
  const binding = bindings.find(b => /^https?$/i.test(b.protocol))
  if (!binding) return undefined
  const m = /^(.*):(\d+):(.*)$/.exec(binding.bindingInformation)
  if (!m) return undefined
  const protocol = binding.protocol.toLowerCase()
  const [, ip, port, host] = m
  const name = host || (ip && ip !== '*' ? (ip.includes(':') ? `[${ip.replace(/^\[|\]$/g, '')}]` : ip) : 'localhost')
  const defaultPort = protocol === 'https' ? '443' : '80'
  const authority = port === defaultPort ? name : `${name}:${port}`
  return `${protocol}://${authority}${appPath === '/' ? '/' : `${appPath}/`}`
}

/** With verify-url empty, the URL (and the SSO host that follows it) comes from the site's first http(s) binding. */
export function withBindingUrl(config: DeployConfig, current: CurrentState, log: Log): DeployConfig {
  if (!config.verify.urlFromBinding) return config
  const url = urlFromBindings(current.site.bindings, config.appPath)
  if (!url) {
    log.warning(
      `Site ${config.siteName} has no http or https binding; verifying ${config.verify.url}. Set verify-url to check another address.`
    )
    return config
  }
  log.info(`verify-url not set: checking ${url}, from the site's binding`)
  const host = config.shibboleth.hostFromVerifyUrl ? new URL(url).hostname : config.shibboleth.host
  return { ...config, verify: { ...config.verify, url }, shibboleth: { ...config.shibboleth, host } }
}
