import { describe, expect, it } from 'vitest'
import { flavourOf, layoutFor } from '../src/layout.js'

describe('layout', () => {
  it('tells a Windows target from its deploy-root, whatever machine plans it', () => {
    expect(flavourOf('C:\\inetpub\\app', 'linux')).toBe('win32')
    expect(flavourOf('D:/apps/x', 'linux')).toBe('win32')
    expect(flavourOf('\\\\fileserver\\share\\app', 'linux')).toBe('win32')
    expect(flavourOf('/srv/app', 'linux')).toBe('posix')
    // On Windows a rooted path without a drive is on the current drive: still Windows.
    expect(flavourOf('/inetpub/app', 'win32')).toBe('win32')
  })

  it('lays out a Windows target with Scripts\\python.exe and Lib\\site-packages', () => {
    const l = layoutFor('C:\\inetpub\\app\\')
    expect(l.root).toBe('C:\\inetpub\\app')
    expect(l.venvPython('h1')).toBe('C:\\inetpub\\app\\venvs\\h1\\Scripts\\python.exe')
    expect(l.venvSitePackages('h1', '3.12')).toBe('C:\\inetpub\\app\\venvs\\h1\\Lib\\site-packages')
    expect(l.staticDir('r1')).toBe('C:\\inetpub\\app\\releases\\r1\\static')
    expect(l.wsgiLog).toBe('C:\\inetpub\\app\\logs\\wfastcgi.log')
  })

  it('keeps a drive root whole', () => {
    expect(layoutFor('C:\\').releasesDir).toBe('C:\\releases')
  })

  it('lays out a POSIX target with bin/python and lib/pythonX.Y', () => {
    const l = layoutFor('/srv/app/')
    expect(l.root).toBe('/srv/app')
    expect(l.venvPython('h1')).toBe('/srv/app/venvs/h1/bin/python')
    expect(l.venvSitePackages('h1', '3.11')).toBe('/srv/app/venvs/h1/lib/python3.11/site-packages')
    expect(layoutFor('/').releasesDir).toBe('/releases')
  })
})
