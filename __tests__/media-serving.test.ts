import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DENIED_EXTENSIONS, mediaServing, renderMediaConfig, writeMediaConfig } from '../src/shared/media.js'
import { TemplateSet } from '../src/render/templates.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

const shared = { rel: 'media', shared: true }

describe('whether IIS serves the uploads', () => {
  it('serves a shared MEDIA_ROOT at the MEDIA_URL that names its folder, relative or absolute', () => {
    expect(mediaServing('/app', 'media/', shared)).toEqual({ serving: { urlPath: '/app/media/', folder: 'media' } })
    expect(mediaServing('/app', '/App/Media/', shared)).toEqual({ serving: { urlPath: '/App/Media/', folder: 'media' } })
    expect(mediaServing('/', '/media/', shared)).toEqual({ serving: { urlPath: '/media/', folder: 'media' } })
  })

  it('says why not when the URL is outside the app or names another folder', () => {
    expect(mediaServing('/app', '/other/media/', shared).note).toMatch(/^MEDIA_URL \/other\/media\/ is outside app-path \/app/)
    expect(mediaServing('/app', 'uploads/', shared).note).toMatch(/set MEDIA_URL = 'media\/'/)
  })

  it('leaves alone what is not its to serve: no MEDIA_URL, another host, MEDIA_ROOT not shared', () => {
    expect(mediaServing('/app', null, shared)).toEqual({})
    expect(mediaServing('/app', 'https://cdn.example.org/media/', shared)).toEqual({})
    expect(mediaServing('/app', 'media/', { rel: 'media', shared: false })).toEqual({})
  })
})

describe("the uploads folder's web.config", () => {
  const content = renderMediaConfig(new TemplateSet(), { urlPath: '/app/media/', folder: 'media' })

  it('is well-formed, locked below, static-only, nosniff, and refuses code and config', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'media-config-')), 'web.config')
    dirs.push(path.dirname(file))
    fs.writeFileSync(file, content)
    execFileSync('xmllint', ['--noout', file])
    expect(content).toContain('<location path="." overrideMode="Deny">')
    expect(content).toMatch(
      /<handlers accessPolicy="Read">\s*<clear \/>\s*<add name="StaticFile"[^>]*modules="StaticFileModule"[^>]*requireAccess="Read" \/>\s*<\/handlers>/
    )
    expect(content).not.toMatch(/FastCgi|httpPlatform/i)
    expect(content).toContain('<add name="X-Content-Type-Options" value="nosniff" />')
    for (const ext of ['.py', '.aspx', '.config']) expect(content).toContain(`<add fileExtension="${ext}" allowed="false" />`)
    expect(DENIED_EXTENSIONS.length).toBe(content.match(/allowed="false"/g)?.length)
    expect(content).toContain('<add segment="web.config" />')
  })

  it('is rewritten by rename through the link, keeps uploads, and keeps a web.config not ours under another name', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'media-write-'))
    dirs.push(root)
    const target = path.join(root, 'shared', 'media')
    fs.mkdirSync(target, { recursive: true })
    fs.writeFileSync(path.join(target, 'upload.png'), 'png')
    fs.writeFileSync(path.join(target, 'web.config'), '<configuration>uploaded</configuration>')
    const release = path.join(root, 'releases', 'r1')
    fs.mkdirSync(release, { recursive: true })
    fs.symlinkSync(target, path.join(release, 'media'))
    const serving = { urlPath: '/app/media/', folder: 'media' }
    const kept = writeMediaConfig(release, serving, content, new Date('2026-01-02T03:04:05Z'))
    expect(kept).toBe(path.join(fs.realpathSync(target), 'web.config.not-ours-20260102T030405000Z'))
    expect(fs.readFileSync(kept ?? '', 'utf8')).toBe('<configuration>uploaded</configuration>')
    expect(fs.readFileSync(path.join(target, 'web.config'), 'utf8')).toBe(content)
    expect(fs.lstatSync(path.join(release, 'media')).isSymbolicLink()).toBe(true)
    // Ours, the same again: nothing is written or kept.
    const ino = fs.statSync(path.join(target, 'web.config')).ino
    expect(writeMediaConfig(release, serving, content)).toBeUndefined()
    expect(fs.statSync(path.join(target, 'web.config')).ino).toBe(ino)
    expect(fs.readFileSync(path.join(target, 'upload.png'), 'utf8')).toBe('png')
  })
})
