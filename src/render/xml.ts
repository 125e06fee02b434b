import { DOMParser, type Document } from '@xmldom/xmldom'

/** Escapes a value for an XML attribute or text node. */
export function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

// XML 1.0's Char production: tab, line breaks and everything from U+0020 but the surrogates, U+FFFE and U+FFFF.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u
const CHAR_REF = /&#(x[0-9a-fA-F]+|[0-9]+);/g

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  )
}

/** What xmllint refuses and xmldom lets through: characters outside XML 1.0, raw or as character references. */
function charProblem(text: string): string | undefined {
  const raw = NOT_XML_CHAR.exec(text)
  if (raw) return `character U+${(raw[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML 1.0`
  for (const m of text.matchAll(CHAR_REF)) {
    const ref = m[1] ?? ''
    const code = ref.startsWith('x') ? parseInt(ref.slice(1), 16) : parseInt(ref, 10)
    if (!isXmlChar(code)) return `character reference ${m[0]} names a character XML 1.0 does not allow`
  }
  return undefined
}

/** Parses XML, throwing on anything a strict parser would refuse (IIS refuses a malformed web.config with 500.19). */
export function parseXmlStrict(text: string, what: string): Document {
  const problem = charProblem(text)
  if (problem) throw new Error(`${what} is not well-formed XML: ${problem}`)
  try {
    return new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message)
      }
    }).parseFromString(text, 'text/xml')
  } catch (e) {
    throw new Error(`${what} is not well-formed XML: ${(e as Error).message.split('\n')[0]}`)
  }
}
