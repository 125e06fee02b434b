import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))

/**
 * Files that ship beside the code: in dist/ the bundle step copies them to dist/templates and dist/python;
 * from source (tests, demo) they are read where they are kept.
 */
export function assetPath(kind: 'templates' | 'python', name: string): string {
  const candidates =
    kind === 'templates'
      ? [path.join(here, 'templates', name), path.join(here, '..', 'templates', name)]
      : [path.join(here, 'python', name), path.join(here, 'python', 'scripts', name)]
  const found = candidates.find(c => fs.existsSync(c))
  if (!found) throw new Error(`bundled ${kind} file ${name} is missing (looked in ${candidates.join(', ')})`)
  return found
}

export function templatesDir(): string {
  return path.dirname(assetPath('templates', 'app-web.config.hbs'))
}
