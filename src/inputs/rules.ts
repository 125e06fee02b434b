import path from 'node:path'
import { InputError } from '../errors.js'
import { indexerProblem } from './appcmd-values.js'
import { pathApi, type Flavour } from '../layout.js'
import { MIN_SECRET_LENGTH } from '../masking.js'

/**
 * Input rules that refuse, before anything is built, what would otherwise fail late or change the wrong thing:
 * over-long names, control characters, appcmd's %u escape, dot segments, and deploy-roots no release can live in.
 */

/** Upper bounds (assumed, see docs/input-rules.md): each keeps the paths and lock names built from it short. */
export const MAX_LENGTH: Readonly<Record<string, number>> = {
  'site-name': 100,
  'app-path': 200,
  'release-id': 64,
  'deploy-root': 150,
  'app-pool': 64
}

export function checkLength(input: string, value: string): void {
  const max = MAX_LENGTH[input]
  if (max !== undefined && value.length > max) {
    throw new InputError(input, `is ${value.length} characters long; use at most ${max} (it names folders, IIS objects and the lock file)`)
  }
}

// Everything below U+0020 (tab included: XML turns a tab in an attribute into a space on read-back) and DEL.
// eslint-disable-next-line no-control-regex -- control characters are what this rule refuses
const CONTROL = /[\u0000-\u001f\u007f]/

function describeChar(ch: string): string {
  return `U+${ch.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}`
}

/** Refuses control characters: XML 1.0 cannot hold most of them, and a tab does not survive an attribute. */
export function checkNoControl(input: string, value: string, what = 'value'): void {
  const bad = CONTROL.exec(value)
  if (bad)
    throw new InputError(
      input,
      `${what} contains the control character ${describeChar(bad[0])}${bad[0] === '\t' ? ' (a tab)' : ''}; remove it`
    )
}

/** `%u` then four hex digits: appcmd may read it as an escaped character (docs/input-rules.md), so the value would change. */
const PERCENT_U = /%u[0-9a-f]{4}/i

export function checkNoPercentU(input: string, value: string, what = 'value'): void {
  const bad = PERCENT_U.exec(value)
  if (bad)
    throw new InputError(input, `${what} contains '${bad[0]}', which appcmd may decode into another character; write the character itself`)
}

/** Names, paths and values that reach appcmd: bounded, one line of printable text, nothing appcmd reinterprets. */
export function checkText(input: string, value: string, what = 'value'): void {
  checkLength(input, value)
  checkNoControl(input, value, what)
  checkNoPercentU(input, value, what)
  const problem = indexerProblem(value)
  if (problem) throw new InputError(input, `${what} ${problem}; remove it`)
}

/** An env or secret-env value: as checkText, and a secret long enough to mask (one rule, MIN_SECRET_LENGTH). */
export function checkEnvValue(input: string, name: string, value: string, where: string): void {
  checkText(input, value, `${where}: the value of ${name}`)
  if (input === 'secret-env' && value.length < MIN_SECRET_LENGTH) {
    throw new InputError(
      input,
      `${where}: the value of ${name} is shorter than ${MIN_SECRET_LENGTH} characters, too short to mask in logs; use a real secret, or env if it is not one`
    )
  }
}

/** A virtual path IIS and icacls can name only one way: no `.` or `..` segment, no segment ending in a dot. */
export function checkAppPathSegments(appPath: string): void {
  for (const segment of appPath.split('/').slice(1)) {
    if (segment === '.' || segment === '..') {
      throw new InputError('app-path', `'${appPath}' has a '${segment}' segment; give the app's path without . or .. segments, e.g. /app`)
    }
    if (segment.endsWith('.')) {
      throw new InputError(
        'app-path',
        `'${appPath}': the segment '${segment}' ends in a dot, which Windows drops from names; remove the trailing dot`
      )
    }
  }
}

function isInside(child: string, parent: string, p: path.PlatformPath): boolean {
  const relative = p.relative(parent, child)
  return relative === '' || (!relative.startsWith('..') && !p.isAbsolute(relative))
}

/**
 * deploy-root must be a local folder of its own: a UNC share is reached by pool identities as the machine
 * account, a drive or file-system root would fill with releases, and inside app-dir every release would copy
 * the releases (and the lock file) before it.
 */
export function checkDeployRoot(deployRoot: string, flavour: Flavour, appDir: string): void {
  const p = pathApi(flavour)
  if (/^[\\/]{2}[?.][\\/]/.test(deployRoot)) {
    throw new InputError(
      'deploy-root',
      `'${deployRoot}' is a device path (\\\\?\\ or \\\\.\\); give a plain local path such as C:\\inetpub\\wwwroot\\app`
    )
  }
  if (/^[\\/]{2}/.test(deployRoot)) {
    throw new InputError(
      'deploy-root',
      `'${deployRoot}' is a network share; IIS pool identities reach shares as the server's machine account, not as themselves, so grants to them do not apply. Use a local folder such as C:\\inetpub\\wwwroot\\app`
    )
  }
  const normal = p.normalize(deployRoot)
  if (normal.replace(/[\\/]+$/, '') === p.parse(normal).root.replace(/[\\/]+$/, '')) {
    throw new InputError(
      'deploy-root',
      `'${deployRoot}' is the root of a drive or file system; use a folder of its own such as C:\\inetpub\\wwwroot\\app`
    )
  }
  const appDirCompared = flavour === 'win32' && process.platform !== 'win32' ? undefined : appDir
  const fold = (s: string): string => (flavour === 'win32' ? s.toLowerCase() : s)
  if (appDirCompared !== undefined && isInside(fold(p.resolve(normal)), fold(p.resolve(appDirCompared)), p)) {
    throw new InputError(
      'deploy-root',
      `'${deployRoot}' is app-dir or inside it, so each release would copy the earlier ones; use a folder outside ${appDir}`
    )
  }
}
