import type { Element, Node } from '@xmldom/xmldom'

/** Where one attribute's value sits in the source text (between its quotes). */
export interface SourceAttribute {
  name: string
  valueStart: number
  valueEnd: number
  quote: '"' | "'"
}

/** Where one element sits in the source text; offsets index the text the scanner was given. */
export interface SourceElement {
  name: string
  /** Offset of '<' of the start tag. */
  start: number
  /** Offset just after '>' of the start tag. */
  openEnd: number
  selfClosing: boolean
  /** Offset of '</' of the end tag; equals openEnd for a self-closing element. */
  closeStart: number
  /** Offset just after the element. */
  end: number
  attributes: SourceAttribute[]
}

const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g

function skipPast(text: string, from: number, marker: string): number {
  const at = text.indexOf(marker, from)
  if (at < 0) throw new Error(`unterminated markup: no '${marker}' after offset ${from}`)
  return at + marker.length
}

/** The offset after a tag's '>', stepping over quoted attribute values (which may hold '>'). */
function tagEnd(text: string, from: number): number {
  let quote = ''
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (quote) {
      if (c === quote) quote = ''
    } else if (c === '"' || c === "'") {
      quote = c
    } else if (c === '>') {
      return i + 1
    }
  }
  throw new Error(`unterminated tag at offset ${from}`)
}

/** DOCTYPE may carry an internal subset in brackets that holds '>' characters. */
function doctypeEnd(text: string, from: number): number {
  let depth = 0
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (c === '[') depth++
    else if (c === ']') depth--
    else if (c === '>' && depth <= 0) return i + 1
  }
  throw new Error(`unterminated DOCTYPE at offset ${from}`)
}

/**
 * Lists every element of a well-formed document in document order with its source offsets. Serialising a DOM
 * would rewrite bytes nobody asked to change (quote style, `<a />` spacing, character references), so edits are
 * spliced into the original text at these offsets instead.
 */
export function scanElements(text: string): SourceElement[] {
  const out: SourceElement[] = []
  const open: SourceElement[] = []
  let i = 0
  while (i < text.length) {
    const lt = text.indexOf('<', i)
    if (lt < 0) break
    if (text.startsWith('<!--', lt)) {
      i = skipPast(text, lt + 4, '-->')
    } else if (text.startsWith('<![CDATA[', lt)) {
      i = skipPast(text, lt + 9, ']]>')
    } else if (text.startsWith('<?', lt)) {
      i = skipPast(text, lt + 2, '?>')
    } else if (text.startsWith('<!', lt)) {
      i = doctypeEnd(text, lt + 2)
    } else if (text.startsWith('</', lt)) {
      const end = skipPast(text, lt + 2, '>')
      const element = open.pop()
      if (!element) throw new Error(`end tag without start tag at offset ${lt}`)
      element.closeStart = lt
      element.end = end
      i = end
    } else {
      const openEnd = tagEnd(text, lt + 1)
      const inner = text.slice(lt + 1, openEnd - 1)
      const name = /^[^\s/>]+/.exec(inner)?.[0] ?? ''
      const selfClosing = inner.trimEnd().endsWith('/')
      const attributes: SourceAttribute[] = []
      ATTRIBUTE.lastIndex = name.length
      let m: RegExpExecArray | null
      while ((m = ATTRIBUTE.exec(inner)) !== null) {
        const quoted = m[2] ?? m[3] ?? ''
        const valueEnd = lt + 1 + m.index + m[0].length - 1
        attributes.push({ name: m[1] ?? '', valueStart: valueEnd - quoted.length, valueEnd, quote: m[2] !== undefined ? '"' : "'" })
      }
      const element: SourceElement = { name, start: lt, openEnd, selfClosing, closeStart: openEnd, end: openEnd, attributes }
      out.push(element)
      if (!selfClosing) open.push(element)
      i = openEnd
    }
  }
  if (open.length > 0) throw new Error(`element <${open[open.length - 1]?.name}> is not closed`)
  return out
}

function domElements(node: Node, into: Element[]): Element[] {
  for (let child = node.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === child.ELEMENT_NODE) {
      into.push(child as Element)
      domElements(child, into)
    }
  }
  return into
}

/**
 * Pairs each DOM element with its source range: both lists are in document order, so the n-th element of the
 * DOM is the n-th start tag of the text. A mismatch (entities that expand to markup) is refused.
 */
export function mapSource(root: Node, text: string): Map<Element, SourceElement> {
  const source = scanElements(text)
  const dom = domElements(root, [])
  if (dom.length !== source.length) {
    throw new Error(
      `the parser saw ${dom.length} elements but the text has ${source.length} start tags (entities that expand to markup are not supported)`
    )
  }
  const map = new Map<Element, SourceElement>()
  dom.forEach((element, index) => {
    const at = source[index]
    if (element.tagName !== at.name) throw new Error(`element ${index} is <${element.tagName}> in the DOM but <${at.name}> in the text`)
    map.set(element, at)
  })
  return map
}
