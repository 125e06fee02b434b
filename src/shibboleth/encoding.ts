/** How the bytes of an XML file map to text and back; the file is written back in the encoding it came in. */
export type XmlEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'bytes'

export interface DecodedXml {
  /** The text, with a byte order mark kept as U+FEFF at its start. */
  text: string
  encoding: XmlEncoding
}

function swapPairs(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes)
  out.swap16()
  return out
}

/**
 * UTF-8 and UTF-16 (Notepad's "Unicode") by their byte order marks; a file that declares another encoding, or is
 * not valid UTF-8, is read one byte a character ('bytes'), which writes back byte for byte, and our additions
 * are ASCII.
 */
export function decodeXml(bytes: Buffer): DecodedXml {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: bytes.toString('utf16le'), encoding: 'utf-16le' }
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return { text: swapPairs(bytes.subarray(0, bytes.length & ~1)).toString('utf16le'), encoding: 'utf-16be' }
  const head = bytes.subarray(0, 200).toString('latin1')
  const declared = /^(?:\uFEFF|\u00EF\u00BB\u00BF)?<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/.exec(head)?.[1]?.toLowerCase()
  if (declared && declared !== 'utf-8' && declared !== 'utf8') return { text: bytes.toString('latin1'), encoding: 'bytes' }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), encoding: 'utf-8' }
  } catch {
    return { text: bytes.toString('latin1'), encoding: 'bytes' }
  }
}

export function encodeXml(text: string, encoding: XmlEncoding): Buffer {
  switch (encoding) {
    case 'utf-16le':
      return Buffer.from(text, 'utf16le')
    case 'utf-16be':
      return swapPairs(Buffer.from(text, 'utf16le'))
    case 'bytes': {
      const wide = [...text].find(c => (c.codePointAt(0) ?? 0) > 0xff)
      if (wide) throw new Error(`'${wide}' cannot be written in this file's single-byte encoding`)
      return Buffer.from(text, 'latin1')
    }
    default:
      return Buffer.from(text, 'utf8')
  }
}
