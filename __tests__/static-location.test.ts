import { describe, expect, it } from 'vitest'
import { InputError, PhaseError } from '../src/errors.js'
import { renderedStaticUrl, staticCheckUrl, staticLocation, StaticUrlError, type StaticLocation } from '../src/plan/static-location.js'

const settings = (
  staticUrl: string | null,
  forceScriptName: string | null = null
): { staticUrl: string | null; forceScriptName: string | null } => ({ staticUrl, forceScriptName })

function refusal(fn: () => unknown): StaticUrlError {
  let thrown: unknown
  try {
    fn()
  } catch (e) {
    thrown = e
  }
  expect(thrown).toBeInstanceOf(StaticUrlError)
  // Printed like bad input: one line, before anything on the server changes.
  expect(thrown).toBeInstanceOf(InputError)
  const error = thrown as StaticUrlError
  expect(error.message.split('\n')).toHaveLength(1)
  expect(error.message).toMatch(/^Django setting STATIC_URL: /)
  return error
}

describe('renderedStaticUrl (Django 3.2 _add_script_prefix under IIS)', () => {
  it('prefixes a relative STATIC_URL with SCRIPT_NAME, the app path', () => {
    expect(renderedStaticUrl('/app', settings('static/'))).toBe('/app/static/')
    expect(renderedStaticUrl('/', settings('static/'))).toBe('/static/')
  })

  it('keeps a path and a URL as written', () => {
    expect(renderedStaticUrl('/app', settings('/static/'))).toBe('/static/')
    expect(renderedStaticUrl('/app', settings('https://cdn.example.org/s/'))).toBe('https://cdn.example.org/s/')
  })

  it('uses FORCE_SCRIPT_NAME instead of SCRIPT_NAME when set', () => {
    expect(renderedStaticUrl('/app', settings('static/', '/portal'))).toBe('/portal/static/')
    expect(renderedStaticUrl('/app', settings('static/', '/app/'))).toBe('/app/static/')
  })
})

describe('staticLocation', () => {
  it("'/app/assets/' is the vdir /assets of the app at /app", () => {
    expect(staticLocation('/app', settings('/app/assets/'), false)).toEqual({ kind: 'vdir', urlPath: '/app/assets/', vdirPath: '/assets' })
  })

  it('allows several segments: /app/assets/css/ is the vdir /assets/css', () => {
    expect(staticLocation('/app', settings('/app/assets/css/'), false)).toEqual({
      kind: 'vdir',
      urlPath: '/app/assets/css/',
      vdirPath: '/assets/css'
    })
  })

  it("'static/' follows the app path", () => {
    expect(staticLocation('/app', settings('static/'), false)).toEqual({ kind: 'vdir', urlPath: '/app/static/', vdirPath: '/static' })
    expect(staticLocation('/', settings('static/'), false)).toEqual({ kind: 'vdir', urlPath: '/static/', vdirPath: '/static' })
  })

  it("accepts Django 3.2's default '/static/' for an app at the site root", () => {
    expect(staticLocation('/', settings('/static/'), false)).toEqual({ kind: 'vdir', urlPath: '/static/', vdirPath: '/static' })
  })

  it("refuses '/static/' for an app below the root, naming the fix", () => {
    const error = refusal(() => staticLocation('/app', settings('/static/'), false))
    expect(error.message).toContain('outside the app at /app')
    expect(error.message).toContain("'static/'")
    expect(error.message).toContain("'/app/static/'")
    expect(error.message).toContain('static-served-elsewhere: true')
  })

  it('compares the app prefix without regard to case, as IIS does, and adds a missing trailing slash', () => {
    expect(staticLocation('/App', settings('/app/assets'), false)).toEqual({ kind: 'vdir', urlPath: '/app/assets/', vdirPath: '/assets' })
  })

  it('does not take a sibling path for a path inside the app', () => {
    refusal(() => staticLocation('/app', settings('/application/static/'), false))
  })

  it('refuses an absolute URL on another host, and a protocol-relative one', () => {
    expect(refusal(() => staticLocation('/app', settings('https://cdn.example.org/static/'), false)).message).toContain('another server')
    refusal(() => staticLocation('/app', settings('//cdn.example.org/static/'), false))
  })

  it("refuses the app's own root, an unset STATIC_URL, and characters a vdir path cannot hold", () => {
    refusal(() => staticLocation('/app', settings('/app/'), false))
    refusal(() => staticLocation('/app', settings(null), false))
    refusal(() => staticLocation('/app', settings('/app/my static/'), false))
    refusal(() => staticLocation('/app', settings('/app/../static/'), false))
  })

  it('with static-served-elsewhere accepts any STATIC_URL and makes no vdir', () => {
    expect(staticLocation('/app', settings('https://cdn.example.org/static/'), true)).toEqual({
      kind: 'elsewhere',
      url: 'https://cdn.example.org/static/'
    })
    expect(staticLocation('/app', settings('/static/'), true)).toEqual({ kind: 'elsewhere', url: '/static/' })
  })
})

describe('staticCheckUrl', () => {
  const assets: StaticLocation = { kind: 'vdir', urlPath: '/app/assets/', vdirPath: '/assets' }

  it('is the URL the app rendered for the file', () => {
    expect(
      staticCheckUrl(assets, { staticUrl: '/app/assets/', fileUrl: '/app/assets/admin/css/base.abc123.css' }, 'admin/css/base.css')
    ).toEqual({
      url: '/app/assets/admin/css/base.abc123.css'
    })
  })

  it('fails the preflight when the app renders STATIC_URL elsewhere than its settings and app path say', () => {
    const run = (): unknown =>
      staticCheckUrl(assets, { staticUrl: '/assets/', fileUrl: '/assets/admin/css/base.css' }, 'admin/css/base.css')
    expect(run).toThrow(PhaseError)
    expect(run).toThrow(/renders STATIC_URL as \/assets\/ under IIS, not \/app\/assets\//)
  })

  it('fails the preflight when the storage links the file outside the static location', () => {
    const run = (): unknown =>
      staticCheckUrl(assets, { staticUrl: '/app/assets/', fileUrl: 'https://cdn.example.org/admin/css/base.css' }, 'admin/css/base.css')
    expect(run).toThrow(/outside \/app\/assets\//)
  })

  it('falls back to the static location, with a warning, when static() could not render the file', () => {
    expect(
      staticCheckUrl(
        assets,
        { staticUrl: '/app/assets/', error: "ValueError: Missing staticfiles manifest entry for 'a b.css'" },
        'a b.css'
      )
    ).toEqual({
      url: '/app/assets/a%20b.css',
      warning: expect.stringContaining('Missing staticfiles manifest entry')
    })
  })

  it('checks nothing when the files are served elsewhere', () => {
    expect(
      staticCheckUrl({ kind: 'elsewhere', url: 'https://cdn.example.org/' }, { fileUrl: 'https://cdn.example.org/x.css' }, 'x.css')
    ).toEqual({})
  })
})
