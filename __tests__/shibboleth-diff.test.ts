import { describe, expect, test } from 'vitest'
import { diffLines, unifiedDiff } from '../src/shibboleth/diff.js'
import { decodeXml, encodeXml } from '../src/shibboleth/encoding.js'

describe('unifiedDiff', () => {
  test('prints hunks with three lines of context, removals before additions', () => {
    const old = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n') + '\n'
    const next = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h', 'i', 'j', 'k'].join('\n') + '\n'
    expect(unifiedDiff(old, next)).toBe(
      [
        '--- a/shibboleth2.xml',
        '+++ b/shibboleth2.xml',
        '@@ -2,9 +2,10 @@',
        ' b',
        ' c',
        ' d',
        '-e',
        '+E',
        ' f',
        ' g',
        ' h',
        ' i',
        ' j',
        '+k',
        ''
      ].join('\n')
    )
  })

  test('separate changes far apart get separate hunks with correct line numbers', () => {
    const old = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\r\n')
    const next = old.replace('line 2\r\n', 'line 2\r\nnew A\r\n').replace('line 25', 'line twenty-five')
    const diff = unifiedDiff(old, next)
    expect(diff).toContain('@@ -1,5 +1,6 @@\n line 1\n line 2\n+new A\n line 3\n')
    expect(diff).toContain('@@ -22,7 +23,7 @@\n line 22\n line 23\n line 24\n-line 25\n+line twenty-five\n')
  })

  test('is empty for the same lines, whatever the line endings or BOM', () => {
    expect(unifiedDiff('\uFEFFa\r\nb\r\n', 'a\nb\n')).toBe('')
    expect(diffLines('', 'x').map(l => l.op + l.text)).toEqual(['+x'])
  })
})

describe('decodeXml and encodeXml', () => {
  test.each([
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a>é</a>\r\n')])],
    ['UTF-16LE with BOM', Buffer.from('\uFEFF<a>é</a>', 'utf16le')],
    ['UTF-16BE with BOM', Buffer.from('\uFEFF<a>é</a>', 'utf16le').swap16()],
    ['declared ISO-8859-1', Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>', 'latin1')],
    ['not valid UTF-8', Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e])]
  ])('%s round-trips byte for byte', (_name, bytes) => {
    const decoded = decodeXml(bytes)
    expect(encodeXml(decoded.text, decoded.encoding).equals(bytes)).toBe(true)
    expect(decoded.text.replace(/^\uFEFF/, '').startsWith('<')).toBe(true)
  })

  test('a single-byte file cannot take a character it cannot hold', () => {
    expect(() => encodeXml('<a>€</a>', 'bytes')).toThrow(/single-byte/)
  })
})
