import { describe, expect, it } from 'vitest'
import { contentTypeFor, contentTypeMatches, pickStaticFile, staticUrl } from '../src/verify/checks.js'

describe('pickStaticFile', () => {
  it('prefers the admin stylesheet, with either path separator', () => {
    expect(pickStaticFile(['admin/js/core.js', 'site/app.css', 'admin\\css\\base.css'])).toBe('admin/css/base.css')
  })
  it('falls back to the first stylesheet, then to the first file', () => {
    expect(pickStaticFile(['img/logo.png', 'site/app.css', 'site/other.css'])).toBe('site/app.css')
    expect(pickStaticFile(['img/logo.png', 'js/app.js'])).toBe('img/logo.png')
    expect(pickStaticFile([])).toBeUndefined()
  })
})

describe('staticUrl', () => {
  it('puts the file under the static vdir of the app', () => {
    expect(staticUrl('http://localhost/app/', '/static', 'admin/css/base.css')).toBe('http://localhost/app/static/admin/css/base.css')
    expect(staticUrl('http://localhost/app', 'static/', 'admin\\css\\base.css')).toBe('http://localhost/app/static/admin/css/base.css')
    expect(staticUrl('https://host.example.org:8443/', '/static', 'a b/c#d.css')).toBe(
      'https://host.example.org:8443/static/a%20b/c%23d.css'
    )
  })
})

describe('contentTypeFor and contentTypeMatches', () => {
  it('maps common collected files', () => {
    expect(contentTypeFor('admin/css/base.css')).toBe('text/css')
    expect(contentTypeFor('admin/js/core.js')).toBe('application/javascript')
    expect(contentTypeFor('img/icon.SVG')).toBe('image/svg+xml')
    expect(contentTypeFor('fonts/x.woff2')).toBe('font/woff2')
    expect(contentTypeFor('README')).toBe('application/octet-stream')
  })
  it('ignores parameters and accepts the spellings of one family', () => {
    expect(contentTypeMatches('text/css; charset=utf-8', 'text/css')).toBe(true)
    expect(contentTypeMatches('text/javascript', 'application/javascript')).toBe(true)
    expect(contentTypeMatches('application/font-woff', 'font/woff')).toBe(true)
    expect(contentTypeMatches('font/woff2', 'font/woff')).toBe(false)
    expect(contentTypeMatches('text/html', 'text/css')).toBe(false)
    expect(contentTypeMatches(undefined, 'text/css')).toBe(false)
  })
})
