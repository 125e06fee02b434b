import type { Log } from '../log.js'
import type { MediaFolder } from '../python/data-paths.js'
import type { TemplateSet } from '../render/templates.js'
import { mediaServing, renderMediaConfig, writeMediaConfig, type MediaServing } from './media.js'

/** Decides whether IIS serves the uploads and, when it does, (re)writes their folder's web.config; says which. */
export function serveMedia(
  log: Log,
  templates: TemplateSet,
  releaseDir: string,
  appPath: string,
  mediaUrl: string | null,
  folder: MediaFolder | undefined
): MediaServing | undefined {
  const { serving, note } = mediaServing(appPath, mediaUrl, folder)
  if (note) log.warning(note, { title: 'Uploads (MEDIA_URL)' })
  if (!serving) return undefined
  return rewriteMediaConfig(log, templates, releaseDir, serving)
}

/** The web.config of the uploads folder, as this version renders it: on every deploy, a reused release's too. */
export function rewriteMediaConfig(log: Log, templates: TemplateSet, releaseDir: string, serving: MediaServing): MediaServing {
  const kept = writeMediaConfig(releaseDir, serving, renderMediaConfig(templates, serving))
  if (kept) log.warning(`A web.config that was not ours was in the uploads folder; it is kept as ${kept} and IIS no longer reads it.`)
  log.info(`IIS serves the uploads at ${serving.urlPath} as plain files, through the release's link to shared/${serving.folder}.`)
  return serving
}
