import { DOMParser, type Document } from '@xmldom/xmldom'

/** Escapes a value for an XML attribute or text node. */
export function xmlEscape(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

/** Parses XML, throwing on anything a strict parser would refuse (IIS refuses a malformed web.config with 500.19). */
export function parseXmlStrict(text: string, what: string): Document {
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
