import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { InputError } from '../src/errors.js'
import { TemplateSet } from '../src/render/templates.js'
import { renderFreshConfig } from '../src/shibboleth/fresh.js'
import { patchShibbolethConfig, pathName, sessionHandlerPath, type ShibbolethWant } from '../src/shibboleth/patch.js'
import { FIXTURES, foreignChanges, ourParts, shibdCheck } from './support/shibboleth-support.js'

interface Case {
  name: string
  file: string
  want: ShibbolethWant
}

const fixture = (name: string): string => path.join(FIXTURES, name)

const cases: Case[] = [
  // Debian's shipped file: no InProcess, no RequestMapper.
  {
    name: 'Debian shibboleth2.xml',
    file: '/etc/shibboleth/shibboleth2.xml',
    want: { siteId: 1, host: 'app.example.org', appPath: '/MyApp', remoteUser: ['eppn'] }
  },
  // The package's example: Site id 1 is the placeholder sp.example.org, a RequestMap for it already exists.
  {
    name: 'example-shibboleth2.xml, placeholder site',
    file: '/etc/shibboleth/example-shibboleth2.xml',
    want: { siteId: 1, host: 'app.example.edu', appPath: '/app', remoteUser: [] }
  },
  {
    name: 'example-shibboleth2.xml, new site',
    file: '/etc/shibboleth/example-shibboleth2.xml',
    want: { siteId: 4, host: 'app.example.edu', appPath: '/tools/app', remoteUser: ['eppn', 'subject-id'] }
  },
  {
    name: 'IIS file with BOM, CRLF, other sites and hosts',
    file: fixture('iis-bom-crlf.xml'),
    want: { siteId: 3, host: 'apps.example.edu', appPath: '/app', remoteUser: ['eppn'] }
  },
  {
    name: 'IIS file, our site known, another path on our host',
    file: fixture('iis-bom-crlf.xml'),
    want: { siteId: 1, host: 'www.example.edu', appPath: '/app/', remoteUser: [] }
  },
  {
    name: 'IIS file, whole host',
    file: fixture('iis-bom-crlf.xml'),
    want: { siteId: 3, host: 'apps.example.edu', appPath: '/', remoteUser: [] }
  },
  {
    name: 'our path present without a session, tabs',
    file: fixture('iis-existing-host.xml'),
    want: { siteId: 3, host: 'apps.example.edu', appPath: '/MyApp', remoteUser: ['eppn'] }
  },
  {
    name: 'prefixed namespace',
    file: fixture('iis-prefixed.xml'),
    want: { siteId: 2, host: 'apps.example.edu', appPath: '/app', remoteUser: ['subject-id'] }
  }
]

describe.each(cases)('patching $name', ({ file, want }) => {
  const input = fs.readFileSync(file, 'utf8')
  const result = patchShibbolethConfig(input, want)

  test('the real SP checker accepts the patched file', async () => {
    const checked = await shibdCheck(result.text)
    expect(checked.output).toContain('overall configuration is loadable')
    expect(checked.exitCode).toBe(0)
  })

  test('it maps the site, protects the path exactly once and sets REMOTE_USER when asked', () => {
    expect(result.changed).toBe(true)
    expect(result.changes.length).toBeGreaterThan(0)
    const parts = ourParts(result.text, want)
    expect(parts.sites).toHaveLength(1)
    expect(parts.sites[0]?.getAttribute('name')).toBe(want.host)
    expect(parts.hosts).toHaveLength(1)
    const protectedBy = pathName(want.appPath) === '' ? parts.hosts : parts.paths
    expect(protectedBy).toHaveLength(1)
    expect(protectedBy[0]?.getAttribute('authType')).toBe('shibboleth')
    expect(protectedBy[0]?.getAttribute('requireSession')).toBe('true')
    if (pathName(want.appPath) === '') expect(parts.paths).toHaveLength(0)
    const before = ourParts(input, want).applicationDefaults.getAttribute('REMOTE_USER')
    expect(parts.applicationDefaults.getAttribute('REMOTE_USER')).toBe(want.remoteUser.length ? want.remoteUser.join(' ') : before)
  })

  test('every changed line is one of ours', () => {
    expect(foreignChanges(input, result.text, want)).toEqual([])
  })

  test('BOM, line endings and the XML declaration are kept', () => {
    expect(result.text.startsWith('\uFEFF')).toBe(input.startsWith('\uFEFF'))
    const crlf = input.includes('\r\n')
    const bareLf = (t: string): number => (t.match(/(?<!\r)\n/g) ?? []).length
    if (crlf) expect(bareLf(result.text)).toBe(0)
    else expect(result.text).not.toContain('\r')
    const declaration = /^\uFEFF?(<\?xml[^>]*\?>)?/.exec(input)?.[1]
    if (declaration) expect(result.text.replace(/^\uFEFF/, '').startsWith(declaration)).toBe(true)
  })

  test('patching the output again yields the same bytes', () => {
    const again = patchShibbolethConfig(result.text, want)
    expect(again.changed).toBe(false)
    expect(again.changes).toEqual([])
    expect(Buffer.from(again.text).equals(Buffer.from(result.text))).toBe(true)
  })
})

describe('patch details', () => {
  const crlfInput = fs.readFileSync(fixture('iis-bom-crlf.xml'), 'utf8')

  test('new elements go where the schema order puts them, above the comments that describe the next element', () => {
    const input = fs.readFileSync('/etc/shibboleth/shibboleth2.xml', 'utf8')
    const out = patchShibbolethConfig(input, { siteId: 1, host: 'app.example.org', appPath: '/app', remoteUser: [] }).text
    const at = (s: string): number => out.indexOf(s)
    expect(at('<OutOfProcess')).toBeLessThan(at('<InProcess>'))
    expect(at('<InProcess>')).toBeLessThan(at('<RequestMapper type="Native">'))
    expect(at('<RequestMapper type="Native">')).toBeLessThan(at('<!-- The ApplicationDefaults element'))
    expect(out).toContain(
      '    <InProcess>\n        <ISAPI normalizeRequest="true" safeHeaderNames="true">\n            <Site id="1" name="app.example.org"/>\n'
    )
  })

  test('existing attributes keep their quotes and the escaped ampersand stays escaped', () => {
    const out = patchShibbolethConfig(crlfInput, { siteId: 3, host: 'apps.example.edu', appPath: '/app', remoteUser: [] }).text
    expect(out).toContain(`<Site id='2' name='intranet.example.edu' scheme="https" port="443" />`)
    expect(out).toContain('supportContact="it-help@example.edu &amp; friends"')
    expect(out).toContain('<!-- <Site id="9" name="old.example.edu"/> -->')
  })

  test('a path written in capitals by hand is renamed to the lower case the SP matches', () => {
    const input = fs.readFileSync(fixture('iis-existing-host.xml'), 'utf8')
    const out = patchShibbolethConfig(input, { siteId: 3, host: 'apps.example.edu', appPath: '/MyApp', remoteUser: [] }).text
    expect(out).toContain('\t\t\t\t<Path name="myapp" requireSession="true" authType="shibboleth"/>\n')
    expect(out).not.toContain('MyApp')
  })

  test('an alias of the site is accepted as our host without renaming the site', () => {
    const result = patchShibbolethConfig(crlfInput, { siteId: 1, host: 'example.edu', appPath: '/app', remoteUser: [] })
    expect(result.text).toContain('<Site id="1" name="www.example.edu">')
    expect(result.changes).toEqual(["added RequestMap Host 'example.edu' Path 'app'"])
  })

  test('a site mapped to another real host is refused, naming both hosts', () => {
    expect(() => patchShibbolethConfig(crlfInput, { siteId: 2, host: 'apps.example.edu', appPath: '/app', remoteUser: [] })).toThrow(
      /site id 2 to 'intranet\.example\.edu', not 'apps\.example\.edu'/
    )
  })

  test('a file that is not XML, or not an SPConfig, is refused as an input error', () => {
    const want = { siteId: 1, host: 'a.example.edu', appPath: '/app', remoteUser: [] }
    const broken = (): unknown =>
      patchShibbolethConfig('<SPConfig xmlns="urn:mace:shibboleth:3.0:native:sp:config"><InProcess></SPConfig>', want)
    expect(broken).toThrow(InputError)
    expect(broken).toThrow(/shibboleth-config.*not well-formed XML/)
    expect(() => patchShibbolethConfig('<configuration><system.webServer/></configuration>', want)).toThrow(
      /root is <configuration>, not a Shibboleth SP <SPConfig/
    )
    expect(() => patchShibbolethConfig('', want)).toThrow(InputError)
  })

  test('a RequestMapper of another type is refused rather than guessed at', () => {
    const input = fs
      .readFileSync(fixture('iis-existing-host.xml'), 'utf8')
      .replace('<RequestMapper type="Native">', '<RequestMapper type="Chaining">')
    expect(() => patchShibbolethConfig(input, { siteId: 3, host: 'apps.example.edu', appPath: '/app', remoteUser: [] })).toThrow(
      /RequestMapper is type="Chaining"/
    )
  })

  test('a fresh file from the template passes the checker and is already what the patcher wants', async () => {
    for (const appPath of ['/app', '/']) {
      const want = { siteId: 7, host: 'new.example.edu', appPath, remoteUser: [] }
      const text = renderFreshConfig(want, new TemplateSet())
      expect(patchShibbolethConfig(text, want).changed).toBe(false)
      const checked = await shibdCheck(text)
      expect(checked.exitCode, checked.output).toBe(0)
    }
  })
})

describe('sessionHandlerPath', () => {
  test('reads Sessions/@handlerURL, its path when it is a URL, and defaults to /Shibboleth.sso', () => {
    expect(sessionHandlerPath(fs.readFileSync('/etc/shibboleth/shibboleth2.xml', 'utf8'))).toBe('/Shibboleth.sso')
    expect(sessionHandlerPath(fs.readFileSync('/etc/shibboleth/example-shibboleth2.xml', 'utf8'))).toBe('/Shibboleth.sso')
    const custom = fs
      .readFileSync(fixture('iis-existing-host.xml'), 'utf8')
      .replace('<Sessions ', '<Sessions handlerURL="https://apps.example.edu/sso/" ')
    expect(sessionHandlerPath(custom)).toBe('/sso')
    expect(sessionHandlerPath(custom.replace('https://apps.example.edu/sso/', '/Auth.sso'))).toBe('/Auth.sso')
  })
})
