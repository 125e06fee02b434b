/**
 * Uploads served by IIS itself. When MEDIA_URL is a path of the app and MEDIA_ROOT is the release folder the URL
 * names, behind a shared link (shared-dirs), the app's root virtual directory already reaches the uploads through
 * the release's junction: no virtual directory and no appcmd call are needed, and a rollback serves the same
 * folder. A web.config written into that shared folder makes IIS serve it as plain files (templates/media-web.config.hbs).
 */
import fs from 'node:fs'
import path from 'node:path'
import type { MediaFolder } from '../python/data-paths.js'
import { writeFileAtomic } from '../render/atomic-write.js'
import type { TemplateSet } from '../render/templates.js'

/** Where IIS serves uploads: the URL path (with slashes) and the folder of the release it maps to. */
export interface MediaServing {
  urlPath: string
  folder: string
}

/** What a web.config of ours starts with: one that lacks it was put there by someone else (an upload). */
export const MEDIA_CONFIG_MARK = 'Rendered by django-iis-deploy'

/** Server-side code and configuration: refused by request filtering even where a MIME type exists for them. */
export const DENIED_EXTENSIONS = [
  '.config',
  '.py',
  '.pyc',
  '.pyo',
  '.pyw',
  '.asp',
  '.aspx',
  '.asax',
  '.ascx',
  '.ashx',
  '.asmx',
  '.axd',
  '.cshtml',
  '.vbhtml',
  '.php',
  '.cgi',
  '.pl',
  '.shtml',
  '.shtm',
  '.stm'
] as const

/**
 * Whether IIS can serve the uploads through the app, and if not why (a note for the log; undefined when MEDIA_URL
 * is not the app's to serve: unset, another host, or MEDIA_ROOT not shared, which the preflight reports).
 */
export function mediaServing(
  appPath: string,
  mediaUrl: string | null,
  media: MediaFolder | undefined
): { serving?: MediaServing; note?: string } {
  if (!mediaUrl || !media?.shared || /^[a-z][a-z0-9+.-]*:|^\/\//i.test(mediaUrl)) return {}
  const prefix = appPath === '/' ? '/' : `${appPath}/`
  // Django prefixes a relative MEDIA_URL with the script prefix, which is the app path under IIS.
  const urlPath = mediaUrl.startsWith('/') ? mediaUrl : `${prefix}${mediaUrl}`
  const withSlash = urlPath.endsWith('/') ? urlPath : `${urlPath}/`
  if (!withSlash.toLowerCase().startsWith(prefix.toLowerCase()))
    return { note: `MEDIA_URL ${mediaUrl} is outside app-path ${appPath}: IIS does not serve the uploads from this app.` }
  const urlRel = withSlash.slice(prefix.length).replace(/\/+$/, '')
  if (urlRel.toLowerCase() !== media.rel.toLowerCase())
    return {
      note:
        `MEDIA_URL ${mediaUrl} does not name MEDIA_ROOT's folder (${media.rel} in the release), so IIS does not serve the uploads: ` +
        `set MEDIA_URL = '${media.rel}/' to serve them through the release's link to shared/.`
    }
  return { serving: { urlPath: withSlash, folder: media.rel } }
}

export function renderMediaConfig(templates: TemplateSet, serving: MediaServing): string {
  return templates.render('media-web.config', { urlPath: serving.urlPath, deniedExtensions: DENIED_EXTENSIONS })
}

/**
 * Writes the uploads folder's web.config (through the release's link, so into shared/). Rewritten each deploy by
 * rename, so a request never reads half a file and no upload is touched; a web.config that is not ours (an upload
 * that got there first) is kept under another name, never overwritten, and reported. Returns that name, if any.
 */
export function writeMediaConfig(releaseDir: string, serving: MediaServing, content: string, now = new Date()): string | undefined {
  const folder = path.join(releaseDir, ...serving.folder.split('/'))
  const file = path.join(fs.realpathSync(folder), 'web.config')
  let kept: string | undefined
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined
  if (existing === content) return undefined
  if (existing !== undefined && !existing.includes(MEDIA_CONFIG_MARK)) {
    kept = `${file}.not-ours-${now.toISOString().replace(/[-:.]/g, '')}`
    fs.renameSync(file, kept)
  }
  writeFileAtomic(file, content)
  return kept
}
