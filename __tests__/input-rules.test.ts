import { describe, expect, it } from 'vitest'
import { InputError } from '../src/errors.js'
import { MAX_POOL_NAME, derivePoolName } from '../src/inputs/pool-name.js'
import { checkAppPathSegments, checkDeployRoot, checkNoControl, checkNoPercentU } from '../src/inputs/rules.js'
import { maskSecrets, secretForms } from '../src/masking.js'
import { urlCredentials, withoutCredentials } from '../src/verify/url-credentials.js'

// The pool-name validator's refused characters (docs/input-rules.md).
const IIS_REFUSED_IN_POOL = /[|<>&\\"/[\]+=;:,?*@]/

describe('derivePoolName', () => {
  it('keeps the readable names of plain paths', () => {
    expect(derivePoolName('Default Web Site', '/app')).toBe('DefaultWebSite-app')
    expect(derivePoolName('Default Web Site', '/app/v2')).toBe('DefaultWebSite-app-v2')
    expect(derivePoolName('Intranet', '/')).toBe('Intranet')
  })

  it('gives the paths that used to collide five different pools', () => {
    const names = ['/a-b', '/a_b', '/a.b', '/a/b', '/a~b'].map(p => derivePoolName('Default Web Site', p))
    expect(new Set(names).size).toBe(5)
    expect(names[3]).toBe('DefaultWebSite-a-b')
    for (const n of names) expect(n).not.toMatch(IIS_REFUSED_IN_POOL)
  })

  it('separates sites whose names differ in more than spaces', () => {
    expect(derivePoolName('Site-1', '/app')).not.toBe(derivePoolName('Site1', '/app'))
    expect(derivePoolName('Site_1', '/app')).not.toBe(derivePoolName('Site.1', '/app'))
  })

  it('stays within the length limit, with a hash when shortened', () => {
    const a = derivePoolName('Default Web Site', `/${'x'.repeat(150)}/a`)
    const b = derivePoolName('Default Web Site', `/${'x'.repeat(150)}/b`)
    expect(a.length).toBeLessThanOrEqual(MAX_POOL_NAME)
    expect(b.length).toBeLessThanOrEqual(MAX_POOL_NAME)
    expect(a).not.toBe(b)
    expect(a).toMatch(/^DefaultWebSite-x+\.[0-9a-f]{10}$/)
  })

  it('is injective over a generated set of sites and paths', () => {
    const sites = ['Default Web Site', 'Intranet', 'a-b', 'a_b', 'ab']
    const segments = ['a', 'b', 'a-b', 'a.b', 'a_b', 'a~b', 'A']
    const paths = ['/', ...segments.map(s => `/${s}`), ...segments.flatMap(s => segments.map(t => `/${s}/${t}`))]
    const seen = new Map<string, string>()
    for (const site of sites) {
      for (const p of paths) {
        const name = derivePoolName(site, p)
        // IIS names are compared without case (an app at /A is the app at /a): fold before comparing.
        const key = name.toLowerCase()
        const pair = `${site}|${p.toLowerCase()}`
        const earlier = seen.get(key)
        if (earlier !== undefined) expect(earlier).toBe(pair)
        seen.set(key, pair)
        expect(name).not.toMatch(IIS_REFUSED_IN_POOL)
        expect(name.length).toBeLessThanOrEqual(MAX_POOL_NAME)
      }
    }
  })
})

describe('input rules', () => {
  const refuses = (fn: () => void, pattern: RegExp): void => {
    expect(fn).toThrow(InputError)
    expect(fn).toThrow(pattern)
  }

  it('refuses dot segments and trailing dots in app-path, and accepts dots inside a name', () => {
    for (const p of ['/app/../etc', '/..', '/.', '/a/./b', '/app.', '/a./b']) refuses(() => checkAppPathSegments(p), /app-path/)
    expect(() => checkAppPathSegments('/app.v2/x.y')).not.toThrow()
    expect(() => checkAppPathSegments('/')).not.toThrow()
  })

  it('refuses control characters (tab included) and %u escapes, naming the character', () => {
    refuses(() => checkNoControl('env', 'a\tb'), /U\+0009 \(a tab\)/)
    refuses(() => checkNoControl('env', 'a\u0000b'), /U\+0000/)
    expect(() => checkNoControl('env', 'héllo wörld ✓')).not.toThrow()
    refuses(() => checkNoPercentU('env', 'x%u00e9'), /'%u00e9'/)
    expect(() => checkNoPercentU('env', '100%unsure %u12 %41')).not.toThrow()
  })

  it('refuses shares, device paths, roots and app-dir for deploy-root; accepts a folder beside app-dir', () => {
    refuses(() => checkDeployRoot('\\\\srv\\share\\app', 'win32', '/work/app'), /network share.*machine account/)
    refuses(() => checkDeployRoot('\\\\?\\C:\\x', 'win32', '/work/app'), /device path/)
    refuses(() => checkDeployRoot('D:\\', 'win32', '/work/app'), /root of a drive/)
    refuses(() => checkDeployRoot('/', 'posix', '/work/app'), /root of a drive/)
    refuses(() => checkDeployRoot('/work/app/', 'posix', '/work/app'), /app-dir or inside it/)
    refuses(() => checkDeployRoot('/work/app/releases', 'posix', '/work/app'), /app-dir or inside it/)
    expect(() => checkDeployRoot('/work/app-deploy', 'posix', '/work/app')).not.toThrow()
    expect(() => checkDeployRoot('/work', 'posix', '/work/app')).not.toThrow()
    expect(() => checkDeployRoot('C:\\inetpub\\wwwroot\\app', 'win32', '/work/app')).not.toThrow()
  })
})

describe('one masking function', () => {
  const secret = 'pa"ss wörd&<1>'

  it('masks every form the action prints: quoted, JSON, XML, percent-encoded', () => {
    const forms = secretForms(secret)
    expect(forms).toEqual(
      expect.arrayContaining([secret, 'pa\\"ss wörd&<1>', 'pa&quot;ss wörd&amp;&lt;1&gt;', encodeURIComponent(secret), encodeURI(secret)])
    )
    for (const form of forms) expect(maskSecrets(`before ${form} after`, [secret])).toBe('before *** after')
  })

  it('masks a secret that contains another whole, and ignores values too short to mask', () => {
    expect(maskSecrets('x=abcdef', ['abc', 'abcdef'])).toBe('x=***')
    expect(secretForms('ab')).toEqual([])
    expect(maskSecrets('a b ab', ['ab'])).toBe('a b ab')
  })
})

describe('verify URL credentials', () => {
  const url = 'https://user:p%C3%A4%20ss@host.example/app/'

  it('strips them from the printed URL', () => {
    expect(withoutCredentials(url)).toBe('https://host.example/app/')
    expect(withoutCredentials('http://localhost/app/')).toBe('http://localhost/app/')
  })

  it('lists them as written and decoded, so they can be masked', () => {
    expect(urlCredentials(url)).toEqual(expect.arrayContaining(['user', 'p%C3%A4%20ss', 'pä ss', 'user:p%C3%A4%20ss']))
    expect(urlCredentials('http://localhost/')).toEqual([])
  })
})
