/** One line of a diff: ' ' kept, '-' only in the old text, '+' only in the new. */
export interface DiffLine {
  op: ' ' | '-' | '+'
  text: string
}

/** Lines without their terminators, so a CRLF file and its LF rendering compare alike in the plan. */
function lines(text: string): string[] {
  const body = text.replace(/^\uFEFF/, '')
  if (body === '') return []
  return body.replace(/\r?\n$/, '').split(/\r?\n/)
}

/** Longest-common-subsequence line diff; configs are a few hundred lines, so the quadratic table is small. */
export function diffLines(oldText: string, newText: string): DiffLine[] {
  const a = lines(oldText)
  const b = lines(newText)
  // Common head and tail are cut first: a patch touches a few lines of a long file.
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) head++
  let tail = 0
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++
  const midA = a.slice(head, a.length - tail)
  const midB = b.slice(head, b.length - tail)
  const n = midA.length
  const m = midB.length
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1))
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i]
    const below = lcs[i + 1]
    for (let j = m - 1; j >= 0; j--) {
      row[j] = midA[i] === midB[j] ? below[j + 1] + 1 : Math.max(below[j], row[j + 1])
    }
  }
  const out: DiffLine[] = a.slice(0, head).map(text => ({ op: ' ', text }))
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      out.push({ op: ' ', text: midA[i++] })
      j++
    } else if (i < n && (j === m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      // Removals before additions, as diff(1) prints a replaced line.
      out.push({ op: '-', text: midA[i++] })
    } else {
      out.push({ op: '+', text: midB[j++] })
    }
  }
  for (const text of a.slice(a.length - tail)) out.push({ op: ' ', text })
  return out
}

/**
 * A unified diff (`--- a`, `+++ b`, `@@ -l,n +l,n @@` hunks with `context` lines around each change), or ''
 * when the texts have the same lines.
 */
export function unifiedDiff(
  oldText: string,
  newText: string,
  labels = { old: 'a/shibboleth2.xml', new: 'b/shibboleth2.xml' },
  context = 3
): string {
  const all = diffLines(oldText, newText)
  const changed = all.map((l, k) => (l.op === ' ' ? -1 : k)).filter(k => k >= 0)
  if (changed.length === 0) return ''
  // Group changes whose context windows touch into one hunk.
  const hunks: Array<[number, number]> = []
  for (const k of changed) {
    const last = hunks[hunks.length - 1]
    if (last && k - last[1] <= 2 * context + 1) last[1] = k
    else hunks.push([k, k])
  }
  const out = [`--- ${labels.old}`, `+++ ${labels.new}`]
  for (const [first, lastChange] of hunks) {
    const from = Math.max(0, first - context)
    const to = Math.min(all.length - 1, lastChange + context)
    let oldLine = 1
    let newLine = 1
    for (let k = 0; k < from; k++) {
      if (all[k]?.op !== '+') oldLine++
      if (all[k]?.op !== '-') newLine++
    }
    const slice = all.slice(from, to + 1)
    const oldCount = slice.filter(l => l.op !== '+').length
    const newCount = slice.filter(l => l.op !== '-').length
    out.push(`@@ -${oldCount ? oldLine : oldLine - 1},${oldCount} +${newCount ? newLine : newLine - 1},${newCount} @@`)
    for (const l of slice) out.push(`${l.op}${l.text}`)
  }
  return `${out.join('\n')}\n`
}
