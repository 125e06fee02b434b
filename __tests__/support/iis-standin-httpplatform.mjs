/**
 * What the IIS stand-in (iis-standin.mjs) plays of HttpPlatformHandler, from the Microsoft Learn page
 * "HttpPlatformHandler Configuration Reference" and aspnet/IISIntegration issue 14 / PR 61
 * (docs/windows-facts.md, the HttpPlatformHandler rows):
 * - the app's web.config <httpPlatform processPath arguments> names the process; %HTTP_PLATFORM_PORT% in arguments
 *   and the HTTP_PLATFORM_PORT variable carry the port it must listen on;
 * - its environmentVariables come from the section as merged down the configuration path: applicationHost.config's
 *   top level, then each <location> on the way to the app, then the app's web.config;
 * - the request is proxied with its URL unchanged: an app below the site root receives its own path in front.
 * Assumed, and stricter than a server may be: the process gets only those variables (plus HTTP_PLATFORM_PORT) and
 * starts in a folder of its own, so nothing may rely on the working directory.
 */

const elementsOf = (el, name) => {
  const out = []
  for (let n = el?.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && n.nodeName === name) out.push(n)
  return out
}
const first = (el, ...names) => names.reduce((cur, name) => elementsOf(cur, name)[0], el)

function applyVariables(env, section) {
  for (const el of children(first(section, 'environmentVariables'))) {
    const name = el.getAttribute('name') ?? ''
    if (el.nodeName === 'clear') for (const k of Object.keys(env)) delete env[k]
    else if (el.nodeName === 'remove') delete env[name]
    else if (el.nodeName === 'environmentVariable') env[name] = el.getAttribute('value') ?? ''
  }
}

function children(el) {
  const out = []
  for (let n = el?.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n)
  return out
}

/**
 * The process HttpPlatformHandler would start for the app, or undefined when its web.config has no <httpPlatform>.
 * `root` is applicationHost.config's <configuration>, `appConfig` the app's web.config one, `location` e.g.
 * "Default Web Site/dept/tools".
 */
export function httpPlatformOf(root, appConfig, location) {
  const own = first(appConfig, 'system.webServer', 'httpPlatform')
  if (!own) return undefined
  const env = {}
  applyVariables(env, first(root, 'system.webServer', 'httpPlatform'))
  const lower = location.toLowerCase()
  const locations = elementsOf(root, 'location')
    .map(l => ({ l, p: (l.getAttribute('path') ?? '').replace(/^\/+|\/+$/g, '') }))
    .filter(({ p }) => p !== '' && (lower === p.toLowerCase() || lower.startsWith(`${p.toLowerCase()}/`)))
    .sort((a, b) => a.p.length - b.p.length)
  for (const { l } of locations) applyVariables(env, first(l, 'system.webServer', 'httpPlatform'))
  applyVariables(env, own)
  return { processPath: own.getAttribute('processPath') ?? '', arguments: own.getAttribute('arguments') ?? '', env }
}

/** argv of `arguments` for a port: %HTTP_PLATFORM_PORT% replaced, split on blanks outside double quotes. */
export function argvFor(args, port) {
  const line = args.replace(/%HTTP_PLATFORM_PORT%/gi, String(port))
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map(m => m[1] ?? m[2])
}
