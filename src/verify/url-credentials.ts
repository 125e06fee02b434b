/**
 * A verify URL may carry `user:password@` for the checks' Basic auth. Those never leave the request: every
 * printed URL (log lines, summary, the url output) goes through withoutCredentials, and the parts are secrets.
 */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url)
    if (!parsed.username && !parsed.password) return url
    parsed.username = ''
    parsed.password = ''
    return parsed.toString()
  } catch {
    return url
  }
}

/** The user and password of a URL, as written and decoded: what must be masked wherever text could hold them. */
export function urlCredentials(url: string): string[] {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return []
  }
  const out: string[] = []
  for (const part of [parsed.username, parsed.password]) {
    if (!part) continue
    out.push(part)
    try {
      out.push(decodeURIComponent(part))
    } catch {
      // A malformed escape stays as written.
    }
  }
  if (parsed.username && parsed.password) out.push(`${parsed.username}:${parsed.password}`)
  return out
}
