import fs from 'node:fs'
import { InputError } from '../errors.js'
import { bool, httpUrl, number } from './primitives.js'
import type { InputValue, VerifyConfig } from './types.js'

/** action.yml: an empty verify-url means app-path/ on localhost, until deploy mode reads the site's binding. */
function defaultVerifyUrl(appPath: string): string {
  return `http://localhost${appPath === '/' ? '/' : `${appPath}/`}`
}

function readBody(get: InputValue): VerifyConfig['body'] {
  const bodyRaw = get('verify-body')
  if (bodyRaw.length > 2 && bodyRaw.startsWith('/') && bodyRaw.endsWith('/')) {
    const source = bodyRaw.slice(1, -1)
    try {
      new RegExp(source)
    } catch (e) {
      throw new InputError(
        'verify-body',
        `/${source}/ is not a valid regular expression (${(e as Error).message}); fix it, or give plain text without the enclosing slashes`
      )
    }
    return { regex: source }
  }
  return bodyRaw ? { text: bodyRaw } : undefined
}

/** verify-url's URL (or its default), read first: the Shibboleth host may follow it. */
export function readVerifyUrl(get: InputValue, appPath: string): string {
  return get('verify-url') ? httpUrl('verify-url', get('verify-url')) : defaultVerifyUrl(appPath)
}

/** Every verify-* input but the timings, in the order the checks are listed in action.yml. */
export function readVerifyTargets(
  get: InputValue,
  url: string
): Pick<VerifyConfig, 'url' | 'urlFromBinding' | 'body' | 'extraUrls' | 'caBundle'> {
  const body = readBody(get)
  const extraUrls = get('verify-urls')
    .split(/\r?\n/)
    .map(s => s.trim())
    .filter(Boolean)
    .map(u => httpUrl('verify-urls', u))
  const caBundle = get('verify-ca-bundle')
  if (caBundle && !fs.existsSync(caBundle)) throw new InputError('verify-ca-bundle', `${caBundle} does not exist; give a PEM file`)
  return { url, urlFromBinding: !get('verify-url'), body, extraUrls, caBundle }
}

/** The rest of verify: status, host header, timings and the switches. */
export function readVerifyChecks(get: InputValue): Omit<VerifyConfig, 'url' | 'urlFromBinding' | 'body' | 'extraUrls' | 'caBundle'> {
  return {
    status: number('verify-status', get('verify-status'), 100, 599),
    hostHeader: get('verify-host'),
    requestTimeoutMs: number('verify-request-timeout', get('verify-request-timeout'), 0.1, 600, false) * 1000,
    totalTimeoutMs: number('verify-timeout', get('verify-timeout'), 0, 3600, false) * 1000,
    intervalMs: number('verify-interval', get('verify-interval'), 0.01, 60, false) * 1000,
    insecure: bool('verify-insecure', get('verify-insecure')),
    followRedirects: bool('verify-follow-redirects', get('verify-follow-redirects')),
    checkStatic: bool('verify-static', get('verify-static'))
  }
}
