// appcmd's argv and its error answers: the verb, object and options as the product passes them (no shell), and
// the exit codes and messages of docs/windows-facts.md's ac-* rows.

export const APPHOST = 'MACHINE/WEBROOT/APPHOST'

/** Windows exit codes; a process reports them modulo 256 on Linux (1168 → 144, 4312 → 216). */
export const EXIT = {
  ok: 0,
  emptyList: 1,
  invalidData: 13,
  commitFailed: 32,
  invalidParameter: 87,
  duplicate: 183,
  serviceAlreadyRunning: 1056,
  serviceNotActive: 1062,
  notFound: 1168,
  elementNotFound: 4312
} as const

/** An answer that ends the call: `text` goes to stdout, stderr stays empty (ac-stdout). */
export class AppcmdError extends Error {
  constructor(
    readonly exitCode: number,
    text: string
  ) {
    super(text)
  }
}

export const fail = (exitCode: number, message: string): never => {
  throw new AppcmdError(exitCode, `ERROR ( message:${message} )`)
}
export const notFound = (type: string, id: string): never => fail(EXIT.notFound, `Cannot find ${type} object with identifier "${id}".`)
export const unknownAttribute = (name: string | undefined): never =>
  fail(EXIT.invalidParameter, `Unknown attribute "${name}".  Replace with -? for help.`)
export const malformedIndexer = (): never =>
  fail(EXIT.invalidParameter, "Malformed collection indexer; format is [@position,name='value',...].")
export const same = (a: unknown, b: unknown): boolean => String(a).toLowerCase() === String(b).toLowerCase()

/** One `-name:value` or `/name:value` option; `name` is undefined for `/+[...]`, `/-[...]` and `/[...]` expressions. */
export interface Option {
  raw: string
  name: string | undefined
  value: string | undefined
}

export interface ParsedArgs {
  identifier: string | undefined
  options: Option[]
}

/** Splits argv after "<verb> <object>" into an identifier (first non-option) and options (-name:value or /name:value). */
export function parseArgs(rest: readonly string[]): ParsedArgs {
  let identifier: string | undefined
  const options: Option[] = []
  for (const arg of rest) {
    if (arg.startsWith('/') || arg.startsWith('-')) {
      const body = arg.slice(1)
      if (body.startsWith('+') || body.startsWith('-') || body.startsWith('[')) {
        options.push({ raw: body, name: undefined, value: undefined })
        continue
      }
      const colon = body.indexOf(':')
      const name = colon < 0 ? body : body.slice(0, colon)
      const value = colon < 0 ? undefined : body.slice(colon + 1)
      options.push({ raw: body, name, value })
    } else if (identifier === undefined) {
      identifier = arg
    } else {
      fail(EXIT.invalidParameter, `Unexpected argument "${arg}".`)
    }
  }
  return { identifier, options }
}

/** Options that shape the answer rather than name a property. */
export const GENERAL = ['xml', 'config', 'text', 'commit', 'section']

/** A named option; the type narrows `name` for callers that read it. */
export type NamedOption = Option & { name: string }

export const optionValue = (options: readonly Option[], name: string): string | undefined =>
  options.find(o => o.name !== undefined && same(o.name, name))?.value
export const hasOption = (options: readonly Option[], name: string): boolean =>
  options.some(o => o.name !== undefined && same(o.name, name))
export const propertyOptions = (options: readonly Option[]): NamedOption[] =>
  options.filter((o): o is NamedOption => o.name !== undefined && !GENERAL.some(g => same(g, o.name)))

export function requireOption(options: readonly Option[], name: string, type: string): string {
  const value = optionValue(options, name)
  if (value === undefined || value === '') fail(EXIT.invalidParameter, `Missing required parameter "${name}" for ${type} object.`)
  return value as string
}

/** The object a verb acts on: the identifier, else the first of `names` given as an option. */
export function identifierFrom(identifier: string | undefined, options: readonly Option[], ...names: string[]): string | undefined {
  if (identifier !== undefined) return identifier
  for (const n of names) {
    const v = optionValue(options, n)
    if (v !== undefined) return v
  }
  return undefined
}
