import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { run, type RunDeps } from '../src/main.js'
import type { ProcessRunner } from '../src/process.js'
import { captureLog } from './support/iis-test-log.js'
import { countingRunner } from './support/counting-runner.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { tempDir } from './support/temp-dir.js'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'

// run() driven in-process: every bad input must stop the run with one error line naming the input and the fix,
// before any program runs (so before any appcmd call) and before anything exists under deploy-root.

const SUPPORT = path.join(import.meta.dirname, 'support')
let tmp: string
let appDir: string

beforeAll(() => {
  tmp = tempDir('bad-input')
  appDir = path.join(tmp, 'app')
  fs.cpSync(EXAMPLE_APP, appDir, { recursive: true, filter: src => !src.includes('__pycache__') })
  fs.mkdirSync(path.join(appDir, 'nomanage'))
})

/** A runner that refuses to start anything: a bad-input run must never get that far. */
const refusingRunner: ProcessRunner = {
  run: async () => ({ exitCode: 127, stdout: '', stderr: 'no process may run for bad input', durationMs: 0 })
}

interface Outcome {
  failures: string[]
  errorLines: string[]
  lines: string[]
  summary: string
  outputs: Record<string, string>
  calls: number
  deployRoot: string
}

async function runWith(over: Record<string, string>, deployRoot: string): Promise<Outcome> {
  const inputs: Record<string, string> = {
    mode: 'stage',
    'app-dir': appDir,
    'deploy-root': deployRoot,
    'app-path': '/app',
    python: SYSTEM_PYTHON,
    'output-dir': path.join(tmp, 'out'),
    // Never the machine-wide default folder, which other checkouts' deploys share.
    'lock-dir': path.join(tmp, 'server-lock'),
    ...over
  }
  const log = captureLog()
  const runner = countingRunner(refusingRunner)
  const failures: string[] = []
  const outputs: Record<string, string> = {}
  let summary = ''
  const deps: RunDeps = {
    inputs: name => inputs[name] ?? '',
    env: { PATH: process.env.PATH ?? '' },
    cwd: tmp,
    runner,
    log,
    setOutput: (name, value) => {
      outputs[name] = value
    },
    summary: { addRaw: text => (summary += text), write: async () => undefined },
    setFailed: message => failures.push(message)
  }
  await run(deps)
  const errorLines = [...failures, ...log.lines.filter(l => l.startsWith('error:'))]
  return { failures, errorLines, lines: log.lines, summary, outputs, calls: runner.calls.length, deployRoot: String(inputs['deploy-root']) }
}

const long = (n: number, ch = 'a'): string => ch.repeat(n)

// [name, inputs, the input the error must name]
const CASES: [string, Record<string, string>, string][] = [
  // env and secret-env
  ["' in an env value", { env: "DB_PASSWORD=it's" }, 'env'],
  ['] in a secret value', { 'secret-env': 'K=a]b' }, 'secret-env'],
  ['%u escape in an env value', { env: 'A=x%u0041y' }, 'env'],
  ['%U escape in a secret value', { 'secret-env': 'K=abc%U00e9' }, 'secret-env'],
  ['tab in an env value', { env: 'A=one\ttwo' }, 'env'],
  ['control character in an env value', { env: 'A=bell\u0007' }, 'env'],
  ['DEL in an env value', { env: 'A=x\u007fy' }, 'env'],
  ['escape character in a secret value', { 'secret-env': 'K=abc\u001b[0m' }, 'secret-env'],
  ['space in an env name', { env: 'A B=1' }, 'env'],
  ['env name starting with a digit', { env: '1A=x' }, 'env'],
  ['env line without =', { env: 'JUSTTEXT' }, 'env'],
  ['env line starting with =', { env: '=value' }, 'env'],
  ['reserved DJANGO_SETTINGS_MODULE', { env: 'DJANGO_SETTINGS_MODULE=x.settings' }, 'env'],
  ['reserved name in lower case', { 'secret-env': 'wsgi_handler=abc' }, 'secret-env'],
  ['empty env value', { env: 'A=' }, 'env'],
  ['a name in env and secret-env', { env: 'TOKEN_NAME=x', 'secret-env': 'TOKEN_NAME=abcdef' }, 'secret-env'],
  ['a name twice in env', { env: 'A=1\nA=2' }, 'env'],
  ['secret too short to mask', { 'secret-env': 'K=ab' }, 'secret-env'],
  // site-name
  ["' in site-name", { 'site-name': "Bob's site" }, 'site-name'],
  ['] in site-name', { 'site-name': 'Site]1' }, 'site-name'],
  ['" in site-name', { 'site-name': 'My "site"' }, 'site-name'],
  ['/ in site-name', { 'site-name': 'a/b' }, 'site-name'],
  ['site-name of 101 characters', { 'site-name': long(101) }, 'site-name'],
  ['site-name of 10k characters', { 'site-name': long(10_000) }, 'site-name'],
  ['tab in site-name', { 'site-name': 'Default\tSite' }, 'site-name'],
  ['%u escape in site-name', { 'site-name': 'Site%u0041' }, 'site-name'],
  // app-path
  ['app-path without /', { 'app-path': 'app' }, 'app-path'],
  ['app-path with ..', { 'app-path': '/app/../etc' }, 'app-path'],
  ['app-path /..', { 'app-path': '/..' }, 'app-path'],
  ['app-path with a trailing dot', { 'app-path': '/app.' }, 'app-path'],
  ['app-path with a . segment', { 'app-path': '/./app' }, 'app-path'],
  ['app-path ending in /.', { 'app-path': '/app/.' }, 'app-path'],
  ['app-path with //', { 'app-path': '/a//b' }, 'app-path'],
  ['app-path with a space', { 'app-path': '/a b' }, 'app-path'],
  ['app-path with ?', { 'app-path': '/app?x=1' }, 'app-path'],
  ['app-path of 201 characters', { 'app-path': `/${long(200)}` }, 'app-path'],
  ['empty app-path', { 'app-path': '' }, 'app-path'],
  // release-id
  ['release-id of 300 characters', { 'release-id': long(300) }, 'release-id'],
  ['release-id of 65 characters', { 'release-id': long(65) }, 'release-id'],
  ['release-id starting with -', { 'release-id': '-r1' }, 'release-id'],
  ['release-id with /', { 'release-id': 'a/b' }, 'release-id'],
  ['release-id with a space', { 'release-id': 'r 1' }, 'release-id'],
  // deploy-root
  ['empty deploy-root', { 'deploy-root': '' }, 'deploy-root'],
  ['relative deploy-root', { 'deploy-root': 'releases' }, 'deploy-root'],
  ['UNC deploy-root', { mode: 'plan', 'deploy-root': '\\\\fileserver\\share\\app' }, 'deploy-root'],
  ['UNC deploy-root with slashes', { 'deploy-root': '//fileserver/share/app' }, 'deploy-root'],
  ['device-path deploy-root', { mode: 'plan', 'deploy-root': '\\\\?\\C:\\inetpub\\app' }, 'deploy-root'],
  ['deploy-root /', { 'deploy-root': '/' }, 'deploy-root'],
  ['deploy-root C:\\', { mode: 'plan', 'deploy-root': 'C:\\' }, 'deploy-root'],
  ['deploy-root C:/', { mode: 'plan', 'deploy-root': 'C:/' }, 'deploy-root'],
  ['deploy-root of 151 characters', { 'deploy-root': `/${long(150)}` }, 'deploy-root'],
  ["' in deploy-root", { 'deploy-root': "/srv/bob's" }, 'deploy-root'],
  ['Windows deploy-root in stage mode on Linux', { 'deploy-root': 'C:\\inetpub\\app' }, 'deploy-root'],
  // app-pool
  ["' in app-pool", { 'app-pool': "bob's" }, 'app-pool'],
  ['[ in app-pool', { 'app-pool': 'pool[1' }, 'app-pool'],
  ['+ in app-pool', { 'app-pool': 'a+b' }, 'app-pool'],
  ['@ in app-pool', { 'app-pool': 'a@b' }, 'app-pool'],
  ['& in app-pool', { 'app-pool': 'a&b' }, 'app-pool'],
  ['app-pool of 65 characters', { 'app-pool': long(65) }, 'app-pool'],
  // verify
  ['verify-url not http(s)', { 'verify-url': 'file:///etc/passwd' }, 'verify-url'],
  ['verify-url not a URL', { 'verify-url': 'not a url' }, 'verify-url'],
  ['a bad line in verify-urls', { 'verify-urls': 'http://localhost/a\nftp://x/' }, 'verify-urls'],
  ['verify-status 99', { 'verify-status': '99' }, 'verify-status'],
  ['verify-status not a number', { 'verify-status': 'ok' }, 'verify-status'],
  ['negative verify-timeout', { 'verify-timeout': '-1' }, 'verify-timeout'],
  ['verify-interval 0', { 'verify-interval': '0' }, 'verify-interval'],
  ['verify-request-timeout 0', { 'verify-request-timeout': '0' }, 'verify-request-timeout'],
  ['verify-body an invalid regex', { 'verify-body': '/[/' }, 'verify-body'],
  ['verify-ca-bundle missing', { 'verify-ca-bundle': '/nonexistent/ca.pem' }, 'verify-ca-bundle'],
  // everything else
  ['unknown mode', { mode: 'apply' }, 'mode'],
  ['unknown hosting', { hosting: 'cgi' }, 'hosting'],
  ['unknown pool-identity', { 'pool-identity': 'SpecificUser' }, 'pool-identity'],
  ['unknown anonymous-user', { 'anonymous-user': 'nobody' }, 'anonymous-user'],
  ['shibboleth not a boolean', { shibboleth: 'maybe' }, 'shibboleth'],
  ['shibboleth with httpplatform', { shibboleth: 'true', hosting: 'httpplatform', 'shibboleth-host': 'a.example' }, 'hosting'],
  ['shibboleth without a host', { shibboleth: 'true' }, 'shibboleth-host'],
  ['remote-user with a bad id', { 'remote-user': 'eppn $uid' }, 'remote-user'],
  [
    'gunicorn for httpplatform',
    { hosting: 'httpplatform', 'httpplatform-command': 'gunicorn app:app --bind :%HTTP_PLATFORM_PORT%' },
    'httpplatform-command'
  ],
  [
    'httpplatform-command without the port',
    { hosting: 'httpplatform', 'httpplatform-command': 'python -m waitress app:app' },
    'httpplatform-command'
  ],
  ['preflight-path without /', { 'preflight-path': 'health' }, 'preflight-path'],
  ['templates folder missing', { templates: '/nonexistent/templates' }, 'templates'],
  ['keep-releases 1', { 'keep-releases': '1' }, 'keep-releases'],
  ['keep-backups 0', { 'keep-backups': '0' }, 'keep-backups'],
  ['lock-timeout not a number', { 'lock-timeout': 'soon' }, 'lock-timeout'],
  ['venv-system-site-packages not a boolean', { 'venv-system-site-packages': 'sometimes' }, 'venv-system-site-packages'],
  ['app-dir missing', { 'app-dir': '/nonexistent/app' }, 'app-dir'],
  ['migrate not a boolean', { migrate: 'later' }, 'migrate'],
  ['verify-before-switch not a boolean', { 'verify-before-switch': 'maybe' }, 'verify-before-switch'],
  ['shared-dirs absolute', { 'shared-dirs': '/srv/media' }, 'shared-dirs'],
  ['shared-dirs leaving app-dir', { 'shared-dirs': 'media/../../etc' }, 'shared-dirs'],
  ['shared-files overlapping shared-dirs', { 'shared-dirs': 'data', 'shared-files': 'data/db.sqlite3' }, 'shared-files'],
  ['release-commands: an interactive command', { 'release-commands': 'shell' }, 'release-commands'],
  ['release-commands: an unclosed quote', { 'release-commands': 'loaddata "seed' }, 'release-commands'],
  ['requirements missing', { requirements: 'nope.txt' }, 'requirements'],
  ['settings-module not a module path', { 'settings-module': 'my-site.settings' }, 'settings-module'],
  ['settings-module not importable', { 'settings-module': 'nope.settings' }, 'settings-module'],
  ['deploy mode without appcmd', { mode: 'deploy', appcmd: '/nonexistent/appcmd.exe' }, 'appcmd'],
  [
    'deploy mode: a UNC deploy-root is refused before appcmd runs',
    { mode: 'deploy', appcmd: path.join(SUPPORT, 'appcmd'), icacls: path.join(SUPPORT, 'icacls'), 'deploy-root': '//fileserver/share/app' },
    'deploy-root'
  ],
  [
    "deploy mode: ' in a secret is refused before appcmd runs",
    { mode: 'deploy', appcmd: path.join(SUPPORT, 'appcmd'), icacls: path.join(SUPPORT, 'icacls'), 'secret-env': "DB_PASSWORD=it's" },
    'secret-env'
  ]
]

// A fix is an imperative: each message says what to do, not only what is wrong.
const FIX = /\b(use|give|remove|set|write|drop|keep|point|fix|commit|list|leave|free|put|start)\b/i

describe('bad input, in-process', () => {
  it('has at least 60 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60)
  })

  it.each(CASES)('%s', async (name, over, input) => {
    const deployRoot = 'deploy-root' in over ? String(over['deploy-root']) : path.join(tmp, `root-${name.replace(/\W+/g, '-')}`)
    const r = await runWith(over, deployRoot)
    expect(r.failures).toHaveLength(1)
    expect(r.errorLines).toHaveLength(1)
    const message = r.failures[0] ?? ''
    expect(message).toMatch(new RegExp(`^Input '${input}': `))
    expect(message.slice(`Input '${input}': `.length)).toMatch(FIX)
    expect(message.split('\n')).toHaveLength(1)
    for (const text of [message, r.summary, ...r.lines]) expect(text).not.toMatch(/^\s+at \S/m)
    expect(r.calls).toBe(0)
    if (path.isAbsolute(deployRoot) && deployRoot.length > 1 && deployRoot.startsWith(tmp)) expect(fs.existsSync(deployRoot)).toBe(false)
    expect(r.summary).toContain(`Input '${input}'`)
  })

  it('deploy-root equal to app-dir is refused, and nothing is written into app-dir', async () => {
    const before = fs.readdirSync(appDir).sort()
    const r = await runWith({ 'deploy-root': appDir }, appDir)
    expect(r.failures).toEqual([expect.stringMatching(/^Input 'deploy-root': .*app-dir or inside it, .*; use a folder outside/)])
    expect(fs.readdirSync(appDir).sort()).toEqual(before)
    expect(r.calls).toBe(0)
  })

  it('deploy-root inside app-dir is refused', async () => {
    const inside = path.join(appDir, 'deploy')
    const r = await runWith({ 'deploy-root': inside }, inside)
    expect(r.failures).toEqual([expect.stringMatching(/^Input 'deploy-root': .*app-dir or inside it/)])
    expect(fs.existsSync(inside)).toBe(false)
  })

  it('a UNC deploy-root error says why and what to use', async () => {
    const r = await runWith({ mode: 'plan', 'deploy-root': '\\\\fs\\share\\app' }, '\\\\fs\\share\\app')
    expect(r.failures[0]).toMatch(/network share; IIS pool identities reach shares as the server's machine account.*Use a local folder/)
  })

  it('a secret refused for its content is not echoed in the error, the log or the summary', async () => {
    const secret = "S3cr3t-it's-long"
    const r = await runWith({ 'secret-env': `DB_PASSWORD=${secret}` }, path.join(tmp, 'root-secret-echo'))
    expect(r.failures).toHaveLength(1)
    for (const text of [...r.failures, r.summary, ...r.lines]) expect(text).not.toContain(secret)
  })
})
