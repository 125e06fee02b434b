import { InputError } from '../errors.js'

/** The spellings of a boolean the runner's own inputs accept, and none that could be a typo. */
export function bool(input: string, raw: string): boolean {
  const v = raw.trim().toLowerCase()
  if (['true', 'yes', '1', 'on'].includes(v)) return true
  if (['false', 'no', '0', 'off', ''].includes(v)) return false
  throw new InputError(input, `'${raw}' is not a boolean; use true or false`)
}

export function oneOf<T extends string>(input: string, raw: string, values: readonly T[]): T {
  const value = raw.trim()
  const found = values.find(v => v === value)
  if (found === undefined) throw new InputError(input, `unknown value '${raw}'; use one of: ${values.join(', ')}`)
  return found
}

/** A number as JavaScript reads one (Number), finite and within min..max. */
export function number(input: string, raw: string, min: number, max: number, integer = true): number {
  const text = raw.trim()
  const value = text === '' ? NaN : Number(text)
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new InputError(input, `'${raw}' is not ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}; give one in that range`)
  }
  return value
}

export function httpUrl(input: string, raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InputError(input, `'${raw}' is not a URL; give a full http:// or https:// URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(input, `'${raw}' is not http(s); give an http:// or https:// URL`)
  }
  return url.toString()
}

/** Splits pip-args and similar on whitespace, honouring double quotes (Windows paths with spaces). */
export function splitArgs(raw: string): string[] {
  const out: string[] = []
  const re = /"([^"]*)"|(\S+)/g
  let m: RegExpExecArray | null
  while ((m = re.exec(raw)) !== null) out.push(m[1] ?? m[2] ?? '')
  return out
}

/** %windir% and friends, as cmd.exe would expand them; unknown names stay as written. */
export function expandWindowsVars(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/%([A-Za-z_][A-Za-z0-9_]*)%/g, (whole, name: string) => {
    const key = Object.keys(env).find(k => k.toLowerCase() === name.toLowerCase())
    return key !== undefined && env[key] !== undefined ? env[key] : whole
  })
}
