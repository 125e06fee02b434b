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
