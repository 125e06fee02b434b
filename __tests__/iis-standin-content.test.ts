import { DOMParser, type Element } from '@xmldom/xmldom'
import { describe, expect, it } from 'vitest'
import { customHeaders, declaresLocked, filterRequest, liftLocations } from './support/iis-standin-content.mjs'

type Level = Element & { lockedBelow?: Set<string> }

function level(xml: string): Level {
  const el = new DOMParser().parseFromString(xml, 'text/xml').documentElement as Level
  el.lockedBelow = liftLocations(el)
  return el
}

const MEDIA = level(`<configuration><location path="." overrideMode="Deny"><system.webServer>
  <handlers><clear /><add name="StaticFile" path="*" verb="GET" modules="StaticFileModule" /></handlers>
  <security><requestFiltering><fileExtensions allowUnlisted="true"><remove fileExtension=".py" /><add fileExtension=".py" allowed="false" /></fileExtensions>
  <hiddenSegments><add segment="web.config" /></hiddenSegments></requestFiltering></security>
  <httpProtocol><customHeaders><remove name="X-Content-Type-Options" /><add name="X-Content-Type-Options" value="nosniff" /></customHeaders></httpProtocol>
</system.webServer></location></configuration>`)

describe('the stand-in reads a content folder web.config as IIS does', () => {
  it('reads a location for the folder itself as its own config and records what it locks below (md-lock-below)', () => {
    expect([...(MEDIA.lockedBelow ?? [])].sort()).toEqual(['handlers', 'httpProtocol', 'security/requestFiltering'])
    const below = level(
      '<configuration><system.webServer><handlers><add name="x" path="*" modules="FastCgiModule" /></handlers></system.webServer></configuration>'
    )
    expect(declaresLocked(below, MEDIA.lockedBelow)).toBe(true)
    const harmless = level('<configuration><system.webServer><defaultDocument /></system.webServer></configuration>')
    expect(declaresLocked(harmless, MEDIA.lockedBelow)).toBe(false)
    const open = level('<configuration><location path="."><system.webServer><handlers /></system.webServer></location></configuration>')
    expect(open.lockedBelow?.size).toBe(0)
  })

  it('answers 404.7 for a denied extension and 404.8 for a hidden segment, case-insensitively (md-request-filtering)', () => {
    expect(filterRequest([MEDIA], '/media/evil.PY')).toMatchObject({ status: 404, text: expect.stringContaining('404.7') })
    expect(filterRequest([MEDIA], '/media/Web.Config')).toMatchObject({ status: 404, text: expect.stringContaining('404.8') })
    expect(filterRequest([MEDIA], '/media/photo.png')).toBeUndefined()
    const allowsPy = level(
      '<configuration><system.webServer><security><requestFiltering><fileExtensions><remove fileExtension=".py" /></fileExtensions></requestFiltering></security></system.webServer></configuration>'
    )
    expect(filterRequest([MEDIA, allowsPy], '/media/x.py')).toBeUndefined()
  })

  it('adds the custom headers of every level (md-custom-headers)', () => {
    expect(customHeaders([MEDIA])).toEqual({ 'X-Content-Type-Options': 'nosniff' })
    expect(customHeaders([])).toEqual({})
  })
})
