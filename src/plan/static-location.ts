import { InputError, PhaseError } from '../errors.js'

/**
 * Where the release's static files are served, derived from Django's STATIC_URL as pages under IIS render it
 * (docs/static-url.md): a virtual directory of the app, or another server the user named.
 */
export type StaticLocation =
  | {
      kind: 'vdir'
      /** URL path the pages link, with both slashes: '/app/assets/'. */
      urlPath: string
      /** The virtual directory's path below the app: '/assets' (several segments allowed: '/assets/css'). */
      vdirPath: string
    }
  | {
      kind: 'elsewhere'
      /** STATIC_URL as Django renders it, for the report. */
      url: string
    }

/** What the location depends on: the settings as written, and where IIS serves the app. */
export interface StaticSettings {
  /** STATIC_URL as the settings write it (null when unset). */
  staticUrl: string | null
  /** FORCE_SCRIPT_NAME (null when unset): Django's script prefix then, instead of SCRIPT_NAME. */
  forceScriptName: string | null
}

/** A refused STATIC_URL: one line naming the setting and the fix, printed like a bad input (nothing has changed yet). */
export class StaticUrlError extends InputError {
  constructor(problem: string) {
    super('static-served-elsewhere', problem)
    this.message = `Django setting STATIC_URL: ${problem}`
  }
}

/**
 * The script prefix Django applies to a relative STATIC_URL under IIS: SCRIPT_NAME (the app path, set in the
 * release's appSettings for apps below the site root) or FORCE_SCRIPT_NAME, always ending in '/'
 * (docs/static-url.md: Django's get_script_name and set_script_prefix).
 */
export function scriptPrefix(appPath: string, forceScriptName: string | null): string {
  const prefix = forceScriptName ?? (appPath === '/' ? '' : appPath)
  return prefix.endsWith('/') ? prefix : `${prefix}/`
}

/** STATIC_URL as a page under IIS links it: relative values get the script prefix, '/...' and URLs stay (Django's _add_script_prefix). */
export function renderedStaticUrl(appPath: string, settings: StaticSettings): string {
  const value = settings.staticUrl ?? ''
  if (/^(https?:\/\/|\/)/.test(value)) return value
  return `${scriptPrefix(appPath, settings.forceScriptName)}${value}`
}

const SAFE_PATH = /^[A-Za-z0-9._~!$&()*+,;=:@/-]*$/

/**
 * The static location for an app at `appPath`. A STATIC_URL the app's virtual directories cannot serve (another host,
 * a path outside the app, the app's own root) is refused unless `servedElsewhere` says another server serves it.
 */
export function staticLocation(appPath: string, settings: StaticSettings, servedElsewhere: boolean): StaticLocation {
  const rendered = renderedStaticUrl(appPath, settings)
  if (servedElsewhere) return { kind: 'elsewhere', url: rendered }
  const appPrefix = appPath === '/' ? '/' : `${appPath}/`
  const fix = `set STATIC_URL = 'static/' (Django prefixes it with the app path) or '${appPrefix}static/', or set static-served-elsewhere: true when another server serves the files`
  if (!settings.staticUrl) throw new StaticUrlError(`is not set, so no page can link a static file; ${fix}`)
  // '//host/...' starts with '/' but is another host to a browser, as http(s):// is.
  if (/^[a-z][a-z0-9+.-]*:/i.test(rendered) || rendered.startsWith('//')) {
    throw new StaticUrlError(`'${settings.staticUrl}' is a URL on another server, not a path of ${appPath}; ${fix}`)
  }
  const urlPath = rendered.endsWith('/') ? rendered : `${rendered}/`
  if (!SAFE_PATH.test(urlPath) || /\/\.\.?\//.test(urlPath) || urlPath.includes('//')) {
    throw new StaticUrlError(
      `'${settings.staticUrl}' has characters or segments a virtual directory path cannot hold (spaces, %, ?, #, quotes, '..', '//'); ${fix}`
    )
  }
  // IIS compares URL paths without regard to case (docs/static-url.md).
  if (!urlPath.toLowerCase().startsWith(appPrefix.toLowerCase())) {
    throw new StaticUrlError(`'${settings.staticUrl}' makes pages link ${urlPath}, which is outside the app at ${appPath}; ${fix}`)
  }
  const vdirPath = `/${urlPath.slice(appPrefix.length).replace(/\/+$/, '')}`
  if (vdirPath === '/') {
    throw new StaticUrlError(`'${settings.staticUrl}' is the app's own root ${appPrefix}, where Django answers; ${fix}`)
  }
  return { kind: 'vdir', urlPath, vdirPath }
}

/** One line for logs and plan output. */
export function describeStaticLocation(location: StaticLocation): string {
  return location.kind === 'vdir'
    ? `static files at ${location.urlPath} (virtual directory ${location.vdirPath} of the app), from STATIC_URL`
    : `static files served elsewhere (STATIC_URL renders as ${location.url}): no static virtual directory, no static check`
}

/** STATIC_URL and a collected file's URL as the app rendered them in the preflight (see python/django.ts). */
export interface RenderedStaticUrls {
  staticUrl?: string
  fileUrl?: string
  error?: string
}

/**
 * The URL verify fetches for the collected `file`: the one the preflight saw the app render (what its pages link).
 * A rendering that leaves the static location means the vdir would serve nothing the pages ask for: that fails the
 * preflight, before IIS is touched.
 */
export function staticCheckUrl(
  location: StaticLocation,
  rendered: RenderedStaticUrls,
  file: string | undefined
): { url?: string; warning?: string } {
  if (location.kind !== 'vdir' || !file) return {}
  const within = (url: string): boolean => url.toLowerCase().startsWith(location.urlPath.toLowerCase())
  if (rendered.staticUrl !== undefined) {
    const seen = rendered.staticUrl.endsWith('/') ? rendered.staticUrl : `${rendered.staticUrl}/`
    if (seen.toLowerCase() !== location.urlPath.toLowerCase()) {
      throw new PhaseError(
        'preflight',
        `the app renders STATIC_URL as ${rendered.staticUrl} under IIS, not ${location.urlPath} as its settings and app path say`,
        'something reads settings.STATIC_URL before the first request (Django keeps the script prefix of that first read); read it lazily, or write STATIC_URL as an absolute path such as ' +
          location.urlPath
      )
    }
  }
  if (rendered.fileUrl !== undefined) {
    if (!within(rendered.fileUrl)) {
      throw new PhaseError(
        'preflight',
        `the app links the collected file ${file} as ${rendered.fileUrl}, outside ${location.urlPath} where IIS would serve it`,
        'the static files storage (STATICFILES_STORAGE) serves them elsewhere: set static-served-elsewhere: true, or make it use STATIC_URL'
      )
    }
    return { url: rendered.fileUrl }
  }
  const encoded = file.replace(/\\/g, '/').replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')
  const warning = rendered.error
    ? `static('${file}') could not be rendered in the preflight (${rendered.error}); verify fetches ${location.urlPath}${encoded}`
    : undefined
  return { url: `${location.urlPath}${encoded}`, ...(warning ? { warning } : {}) }
}
