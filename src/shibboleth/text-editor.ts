import type { Element } from '@xmldom/xmldom'
import { xmlEscape } from '../render/xml.js'
import type { SourceElement } from './xml-source.js'

interface Edit {
  start: number
  end: number
  text: string
  seq: number
}

/** A block of new markup: each line with its depth below the insertion point. */
export type Block = Array<[depth: number, line: string]>

/** Splices edits into the original text, so every byte outside our elements and attributes stays as it was. */
export class Editor {
  private readonly edits: Edit[] = []
  readonly newline: string
  readonly unit: string

  constructor(
    readonly text: string,
    private readonly source: Map<Element, SourceElement>,
    private readonly namespace: string
  ) {
    const crlf = (text.match(/\r\n/g) ?? []).length
    const lf = (text.match(/\n/g) ?? []).length - crlf
    this.newline = crlf > lf ? '\r\n' : '\n'
    this.unit = this.detectUnit()
  }

  src(element: Element): SourceElement {
    const found = this.source.get(element)
    if (!found) throw new Error(`no source range for <${element.tagName}>`)
    return found
  }

  children(parent: Element, localName?: string): Element[] {
    const out: Element[] = []
    for (let n = parent.firstChild; n; n = n.nextSibling) {
      if (n.nodeType !== n.ELEMENT_NODE) continue
      const e = n as Element
      if (localName === undefined || (e.localName === localName && e.namespaceURI === this.namespace)) out.push(e)
    }
    return out
  }

  /** Qualified name for a new child, with the parent's prefix so it lands in the SP's namespace. */
  qname(parent: Element, localName: string): string {
    return parent.prefix ? `${parent.prefix}:${localName}` : localName
  }

  private replace(start: number, end: number, text: string): void {
    this.edits.push({ start, end, text, seq: this.edits.length })
  }

  /** The whitespace before offset on its line, or undefined when other content shares the line. */
  private indentAt(offset: number): string | undefined {
    const lineStart = this.text.lastIndexOf('\n', offset - 1) + 1
    const before = this.text.slice(lineStart, offset)
    return /^[ \t]*$/.test(before) ? before : undefined
  }

  private indentOf(element: Element): string {
    return this.indentAt(this.src(element).start) ?? ''
  }

  private detectUnit(): string {
    const counts = new Map<string, number>()
    for (const [element, at] of this.source) {
      const parent = element.parentNode
      if (!parent || parent.nodeType !== parent.ELEMENT_NODE) continue
      const own = this.indentAt(at.start)
      const outer = this.indentAt(this.src(parent as Element).start)
      if (own === undefined || outer === undefined || !own.startsWith(outer) || own === outer) continue
      const delta = own.slice(outer.length)
      counts.set(delta, (counts.get(delta) ?? 0) + 1)
    }
    let best = '    '
    let most = 0
    for (const [delta, n] of counts) {
      if (n > most) [best, most] = [delta, n]
    }
    return best
  }

  private childIndent(parent: Element): string {
    for (const child of this.children(parent)) {
      const indent = this.indentAt(this.src(child).start)
      if (indent !== undefined) return indent
    }
    return this.indentOf(parent) + this.unit
  }

  private render(block: Block, indent: string): string {
    return block.map(([depth, line], i) => (i === 0 ? '' : indent + this.unit.repeat(depth)) + line).join(this.newline)
  }

  /**
   * Comments directly above an element (no blank line between) describe it: a new sibling goes above them, not
   * between a comment and the element it explains.
   */
  private attachedStart(start: number, floor: number): number {
    let p = start
    for (;;) {
      let j = p
      while (j > floor && /\s/.test(this.text[j - 1] ?? '')) j--
      if ((this.text.slice(j, p).match(/\n/g) ?? []).length > 1) break
      if (this.text.slice(j - 3, j) !== '-->') break
      const open = this.text.lastIndexOf('<!--', j - 3)
      if (open < floor || this.indentAt(open) === undefined) break
      p = open
    }
    return p
  }

  /** Inserts a block as a child of parent, before the first child that must follow it, else after the last child. */
  insertChild(parent: Element, block: Block, mustFollow: (localName: string) => boolean): void {
    const at = this.src(parent)
    const anchor = this.children(parent).find(c => c.namespaceURI === this.namespace && mustFollow(c.localName ?? ''))
    if (anchor) {
      const p = this.attachedStart(this.src(anchor).start, at.openEnd)
      const indent = this.indentAt(p) ?? this.childIndent(parent)
      this.replace(p, p, this.render(block, indent) + this.newline + indent)
      return
    }
    const outer = this.indentOf(parent)
    if (at.selfClosing) {
      let slash = at.openEnd - 2
      while (slash > at.start && /\s/.test(this.text[slash - 1] ?? '')) slash--
      const inner = outer + this.unit
      this.replace(slash, at.openEnd, `>${this.newline}${inner}${this.render(block, inner)}${this.newline}${outer}</${parent.tagName}>`)
      return
    }
    const inner = this.childIndent(parent)
    let q = at.closeStart
    while (q > at.openEnd && /\s/.test(this.text[q - 1] ?? '')) q--
    const insertion = this.newline + inner + this.render(block, inner)
    if (this.text.slice(q, at.closeStart).includes('\n')) this.replace(q, q, insertion)
    else this.replace(q, at.closeStart, insertion + this.newline + outer)
  }

  /** Sets an attribute in place (same quotes, same position) or appends it to the start tag; false if already so. */
  setAttribute(element: Element, name: string, value: string): boolean {
    const at = this.src(element)
    const existing = at.attributes.find(a => a.name === name)
    if (existing) {
      if (element.getAttribute(name) === value) return false
      this.replace(existing.valueStart, existing.valueEnd, xmlEscape(value))
      return true
    }
    const last = at.attributes[at.attributes.length - 1]
    const pos = last ? last.valueEnd + 1 : at.start + 1 + at.name.length
    this.replace(pos, pos, ` ${name}="${xmlEscape(value)}"`)
    return true
  }

  apply(): string {
    // Back to front so earlier offsets stay valid; at one offset a replacement goes first, then inserts in order.
    const ordered = [...this.edits].sort((a, b) => b.start - a.start || b.end - a.end || b.seq - a.seq)
    let out = this.text
    for (const e of ordered) out = out.slice(0, e.start) + e.text + out.slice(e.end)
    return out
  }
}
