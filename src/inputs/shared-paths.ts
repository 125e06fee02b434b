import { InputError } from '../errors.js'
import { splitArgs } from './primitives.js'
import type { InputValue } from './types.js'

/** shared-dirs and shared-files: paths relative to app-dir, '/'-separated, that live in deploy-root/shared/. */
export interface SharedPaths {
  dirs: string[]
  files: string[]
}

type SharedInput = 'shared-dirs' | 'shared-files'

/** Files a release needs to be its own: the rendered configs and the manifests stage writes into it. */
const RELEASE_OWNED = new Set(['web.config', 'release.json', 'release.files.json'])

/**
 * One path of the list: relative, inside the project, no drive or stream (':'), no wildcard. Windows compares
 * names case-insensitively, so the key every overlap check uses is lower case.
 */
function readOne(input: SharedInput, raw: string): string {
  const fix = `give a path relative to app-dir, e.g. ${input === 'shared-dirs' ? 'media' : 'local_settings.py'}`
  const slashed = raw.replace(/\\/g, '/')
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed))
    throw new InputError(input, `'${raw}' is absolute; ${fix} (it is kept under deploy-root/shared/)`)
  if (/[:*?"<>|]/.test(slashed) || [...slashed].some(c => c.charCodeAt(0) < 32))
    throw new InputError(input, `'${raw}' has a character Windows refuses in names (: * ? " < > |); ${fix}`)
  const segments = slashed.split('/').filter(s => s !== '' && s !== '.')
  if (segments.some(s => s === '..')) throw new InputError(input, `'${raw}' leaves the project (..); ${fix}`)
  // Windows drops trailing dots and spaces from names, so 'media.' would be another spelling of 'media'.
  if (segments.some(s => /[. ]$/.test(s)))
    throw new InputError(input, `'${raw}' has a name ending in a dot or space, which Windows drops; ${fix}`)
  if (segments.length === 0) throw new InputError(input, `'${raw}' names the project folder itself; ${fix}`)
  const rel = segments.join('/')
  const key = rel.toLowerCase()
  if (key === 'static' || key.startsWith('static/'))
    throw new InputError(
      input,
      `'${raw}' is the release's static folder, which collectstatic fills anew for every release; share another folder`
    )
  if (segments.length === 1 && RELEASE_OWNED.has(key))
    throw new InputError(input, `'${raw}' is a file every release writes for itself; share another path`)
  return rel
}

function within(inner: string, outer: string): boolean {
  const a = inner.toLowerCase()
  const b = outer.toLowerCase()
  return a === b || a.startsWith(`${b}/`)
}

/** The two inputs, each path checked, and no path equal to or inside another (one link cannot hold another). */
export function readSharedPaths(get: InputValue): SharedPaths {
  const lists: Record<SharedInput, string[]> = { 'shared-dirs': [], 'shared-files': [] }
  const seen: { input: SharedInput; rel: string; raw: string }[] = []
  for (const input of ['shared-dirs', 'shared-files'] as const) {
    for (const raw of splitArgs(get(input))) {
      const rel = readOne(input, raw)
      const clash = seen.find(s => within(rel, s.rel) || within(s.rel, rel))
      if (clash) {
        const where = clash.input === input ? '' : ` (in ${clash.input})`
        throw new InputError(input, `'${raw}' overlaps '${clash.raw}'${where}; list each shared path once, and none inside another`)
      }
      seen.push({ input, rel, raw })
      lists[input].push(rel)
    }
  }
  return { dirs: lists['shared-dirs'], files: lists['shared-files'] }
}
