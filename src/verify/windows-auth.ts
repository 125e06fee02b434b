import type { HttpResponse } from './http.js'

// With auth: windows IIS answers every anonymous request below the app with 401 and its challenges
// (docs/windows-facts.md, ac-windows-auth), before any handler runs, static files included. Node cannot answer a
// Negotiate or NTLM challenge without the runner's Windows credentials, so verify checks what an anonymous client
// can see: the challenge at the app URL, the extra URLs and the static file (which proves the static path sits
// behind the same authentication, not that the file is there; docs/identity-and-auth.md, "Verify").

interface Judged {
  ok: boolean
  detail: string
  final?: boolean
}

/** The challenges IIS offers, from WWW-Authenticate (Node joins repeated headers with ', '). */
export function challenges(response: Pick<HttpResponse, 'headers'>): string[] {
  const raw = response.headers['www-authenticate']
  const text = Array.isArray(raw) ? raw.join(', ') : (raw ?? '')
  return text
    .split(',')
    .map(s => s.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean)
}

export function judgeWindowsChallenge(response: HttpResponse): Judged {
  if (response.error !== undefined) return { ok: false, detail: response.error, final: response.errorKind === 'tls' }
  const offered = challenges(response)
  if (response.status === 401 && offered.some(c => /^(negotiate|ntlm)$/i.test(c))) {
    return { ok: true, detail: `HTTP 401 with WWW-Authenticate ${offered.join(', ')}: Windows Authentication is on` }
  }
  if (response.status === 401) {
    return {
      ok: false,
      detail: `HTTP 401 offering ${offered.join(', ') || 'nothing'}, not Negotiate or NTLM: Windows Authentication's providers are missing at the app's location`
    }
  }
  if (response.status === 200) {
    return { ok: false, detail: 'HTTP 200 to an anonymous request: anonymous access is still on at the app (auth: windows)' }
  }
  return { ok: false, detail: `HTTP ${response.status ?? '?'}, expected 401 with WWW-Authenticate: Negotiate or NTLM` }
}

/** A check as verify runs it, judged instead by the Windows challenge and never following a redirect. */
export function behindWindowsAuth<T extends { followRedirects: boolean; judge: (r: HttpResponse) => Judged }>(spec: T): T {
  return { ...spec, followRedirects: false, judge: judgeWindowsChallenge }
}
