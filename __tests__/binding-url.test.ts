import { describe, expect, it } from 'vitest'
import { urlFromBindings } from '../src/verify/binding-url.js'

describe('urlFromBindings', () => {
  it('uses localhost for a binding to all names on port 80', () => {
    expect(urlFromBindings([{ protocol: 'http', bindingInformation: '*:80:' }], '/app')).toBe('http://localhost/app/')
  })
  it('keeps a host header and a non-default port', () => {
    expect(urlFromBindings([{ protocol: 'http', bindingInformation: '*:8080:intranet.example.org' }], '/app')).toBe(
      'http://intranet.example.org:8080/app/'
    )
  })
  it('skips non-http bindings and takes https on 443 without a port', () => {
    const bindings = [
      { protocol: 'net.tcp', bindingInformation: '808:*' },
      { protocol: 'https', bindingInformation: '*:443:app.example.edu' }
    ]
    expect(urlFromBindings(bindings, '/')).toBe('https://app.example.edu/')
  })
  it('uses a bound IP address when there is no host name', () => {
    expect(urlFromBindings([{ protocol: 'http', bindingInformation: '10.1.2.3:81:' }], '/x')).toBe('http://10.1.2.3:81/x/')
  })
  it('has no answer without an http binding', () => {
    expect(urlFromBindings([{ protocol: 'net.pipe', bindingInformation: '*' }], '/app')).toBeUndefined()
  })
})
