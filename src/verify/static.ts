import path from 'node:path'

/** Content types IIS's default MIME map gives common static files (the ones a Django collectstatic produces). */
const TYPES: Record<string, string> = {
  '.css': 'text/css',
  '.js': 'application/javascript',
  '.mjs': 'application/javascript',
  '.json': 'application/json',
  '.map': 'application/json',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.txt': 'text/plain',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject'
}

/**
 * Media types that name the same thing differently across IIS versions and servers; a response in any of a
 * family's spellings passes.
 */
const FAMILIES: RegExp[] = [
  /javascript|ecmascript/,
  /^image\/(x-icon|vnd\.microsoft\.icon)$/,
  /woff2/,
  /woff(?!2)/,
  /ttf|truetype|sfnt/,
  /json/
]

export const ADMIN_CSS = 'admin/css/base.css'

function normalise(file: string): string {
  return file.replace(/\\/g, '/').replace(/^\/+/, '')
}

/** The expected content type of a static file by its extension; unknown extensions give application/octet-stream. */
export function contentTypeFor(file: string): string {
  return TYPES[path.posix.extname(normalise(file)).toLowerCase()] ?? 'application/octet-stream'
}

function mediaType(contentType: string): string {
  return contentType.split(';')[0]?.trim().toLowerCase() ?? ''
}

export function contentTypeMatches(actual: string | undefined, expected: string): boolean {
  if (!actual) return false
  const a = mediaType(actual)
  const e = mediaType(expected)
  if (a === e) return true
  return FAMILIES.some(family => family.test(a) && family.test(e))
}

/**
 * The static file verify asks for: the admin stylesheet when django.contrib.admin collected it (the classic
 * "admin without styles" failure), else the first stylesheet, else the first file. Paths are relative to
 * STATIC_ROOT, with either separator.
 */
export function pickStaticFile(collectedFiles: string[]): string | undefined {
  const files = collectedFiles.map(normalise).filter(Boolean)
  return files.find(f => f === ADMIN_CSS) ?? files.find(f => f.toLowerCase().endsWith('.css')) ?? files[0]
}

/** URL of a collected file under the app's static virtual directory, e.g. http://host/app/ + /static + admin/css/base.css. */
export function staticUrl(appUrl: string, vdir: string, file: string): string {
  const base = new URL(appUrl)
  const appPath = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`
  const dir = vdir.replace(/^\/+|\/+$/g, '')
  const encoded = normalise(file).split('/').map(encodeURIComponent).join('/')
  return new URL(`${appPath}${dir ? `${dir}/` : ''}${encoded}`, base.origin).toString()
}
