/** What appcmd can carry in a value: inputs are checked against it once, and appcmd.ts refuses the rest. */
// A single-quoted indexer value cannot hold a quote (escaping is unverified), and ] or a line break ends it.
const UNSAFE_IN_INDEXER = /['\]\r\n]/

export function describeUnsafe(ch: string): string {
  if (ch === "'") return "contains ', which appcmd cannot pass inside a collection indexer"
  if (ch === ']') return 'contains ], which ends an appcmd collection indexer'
  return 'contains a line break, which appcmd cannot pass'
}

/** Why appcmd could not carry `value` inside an indexer, or undefined when it can: checked once, for inputs too. */
export function indexerProblem(value: string): string | undefined {
  const bad = UNSAFE_IN_INDEXER.exec(value)
  return bad ? describeUnsafe(bad[0]) : undefined
}
