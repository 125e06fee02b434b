import fs from 'node:fs'
import { TextDecoder } from 'node:util'

/** Read size: a file of any length costs this much text at a time, plus one entry. */
const READ_CHUNK = 64 * 1024

// One `"key":"value"` entry after the object's `{` (the first) or a `,`. Both are JSON strings (no raw control
// character); whitespace is allowed where JSON allows it.
const PAIR = String.raw`\s*("(?:[^"\\\u0000-\u001f]|\\.)*")\s*:\s*("(?:[^"\\\u0000-\u001f]|\\.)*")`
const FIRST = new RegExp(String.raw`\s*\{` + PAIR, 'y')
const NEXT = new RegExp(String.raw`\s*,` + PAIR, 'y')
const EMPTY = /\s*\{\s*\}\s*$/y
const END = /\s*\}\s*$/y

/** A string without escapes is its text between the quotes; JSON.parse takes the others, and refuses bad escapes. */
function unquote(token: string): string {
  return token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1)
}

function parsePair(key: string, value: string): [string, string] | undefined {
  try {
    return [unquote(key), unquote(value)]
  } catch {
    return undefined
  }
}

function decode(decoder: TextDecoder, bytes: Uint8Array, more: boolean): string | undefined {
  try {
    return decoder.decode(bytes, { stream: more })
  } catch {
    return undefined
  }
}

/**
 * Reads a JSON object whose values are all strings (what jsonObjectChunks writes from a Map of strings) entry by
 * entry, in fixed reads: neither the whole text nor the whole parsed object is ever in memory, which for the file
 * list of a 50,000-file release is 5 MB of text and more as objects (npm run bench, node's peak RSS).
 * Returns false, having called `onEntry` for the entries before it, when the text is not such an object or
 * `onEntry` returned false (the caller has read enough to refuse the file); a file that cannot be read throws.
 */
export function readJsonStringPairs(file: string, onEntry: (key: string, value: string) => boolean | void): boolean {
  const fd = fs.openSync(file, 'r')
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK)
    const decoder = new TextDecoder('utf-8', { fatal: true })
    let text = ''
    let entries = 0
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, READ_CHUNK, null)
      const decoded = decode(decoder, buffer.subarray(0, n), n > 0)
      if (decoded === undefined) return false
      text += decoded
      if (entries === 0) text = text.replace(/^\uFEFF/, '')
      let at = 0
      // A match is a whole entry (both closing quotes are in it); one cut by the read is matched after the next.
      for (;;) {
        const pattern = entries === 0 ? FIRST : NEXT
        pattern.lastIndex = at
        const entry = pattern.exec(text)
        if (!entry) break
        const pair = parsePair(entry[1], entry[2])
        if (!pair) return false
        if (onEntry(pair[0], pair[1]) === false) return false
        entries++
        at = pattern.lastIndex
      }
      text = text.slice(at)
      if (n === 0) {
        const last = entries > 0 ? END : EMPTY
        last.lastIndex = 0
        return last.test(text)
      }
      // Far more than one entry left unmatched: this is not an object of strings.
      if (text.length > 2 * READ_CHUNK) return false
    }
  } finally {
    fs.closeSync(fd)
  }
}
