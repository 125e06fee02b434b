import { describe, expect, it } from 'vitest'
import { InputError } from '../src/errors.js'
import { readSharedPaths } from '../src/inputs/shared-paths.js'

function read(dirs: string, files = ''): ReturnType<typeof readSharedPaths> {
  const values: Record<string, string> = { 'shared-dirs': dirs, 'shared-files': files }
  return readSharedPaths(name => values[name] ?? '')
}

function refusal(dirs: string, files = ''): string {
  try {
    read(dirs, files)
  } catch (e) {
    expect(e).toBeInstanceOf(InputError)
    return (e as Error).message
  }
  throw new Error('accepted')
}

describe('shared-dirs and shared-files', () => {
  it('reads space- and newline-separated relative paths, with / or \\, in one spelling', () => {
    expect(read('media\n data/uploads ', './local\\conf.py')).toEqual({ dirs: ['media', 'data/uploads'], files: ['local/conf.py'] })
    expect(read('', '')).toEqual({ dirs: [], files: [] })
    expect(read('media/', '"my files/db.sqlite3"')).toEqual({ dirs: ['media'], files: ['my files/db.sqlite3'] })
  })

  it('refuses absolute paths and drive letters, naming the input and the fix', () => {
    expect(refusal('/srv/media')).toBe(
      "Input 'shared-dirs': '/srv/media' is absolute; give a path relative to app-dir, e.g. media (it is kept under deploy-root/shared/)"
    )
    expect(refusal('', 'C:\\data\\db.sqlite3')).toMatch(
      /^Input 'shared-files': 'C:\\data\\db.sqlite3' is absolute; give a path relative to app-dir/
    )
    expect(refusal('C:media')).toMatch(/^Input 'shared-dirs': 'C:media' is absolute/)
    expect(refusal('\\\\server\\share')).toMatch(/is absolute/)
  })

  it('refuses .., the project itself, streams, wildcards and names Windows would change', () => {
    expect(refusal('media/../../etc')).toMatch(/^Input 'shared-dirs': 'media\/..\/..\/etc' leaves the project \(\.\.\)/)
    expect(refusal('.')).toMatch(/names the project folder itself/)
    expect(refusal('', 'db.sqlite3:evil')).toMatch(/^Input 'shared-files': .* character Windows refuses/)
    expect(refusal('media*')).toMatch(/character Windows refuses/)
    expect(refusal('media.')).toMatch(/ending in a dot or space/)
  })

  it('refuses overlaps within and across the two inputs, case-insensitively', () => {
    expect(refusal('media media/avatars')).toBe(
      "Input 'shared-dirs': 'media/avatars' overlaps 'media'; list each shared path once, and none inside another"
    )
    expect(refusal('data', 'Data/db.sqlite3')).toBe(
      "Input 'shared-files': 'Data/db.sqlite3' overlaps 'data' (in shared-dirs); list each shared path once, and none inside another"
    )
    expect(refusal('media Media')).toMatch(/overlaps/)
  })

  it('refuses the static folder and the files every release writes itself', () => {
    expect(refusal('static')).toMatch(/^Input 'shared-dirs': 'static' is the release's static folder/)
    expect(refusal('Static/uploads')).toMatch(/static folder/)
    expect(refusal('', 'web.config')).toMatch(/^Input 'shared-files': 'web.config' is a file every release writes/)
    expect(read('staticfiles').dirs).toEqual(['staticfiles'])
  })
})
