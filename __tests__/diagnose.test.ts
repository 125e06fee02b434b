import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { HINTS, diagnose, diagnoseAll, evidenceFromChecks, reportDiagnosis, tailFile, type Evidence } from '../src/diagnose.js'
import type { UrlCheckResult } from '../src/verify/checks.js'
import { captureLog } from './support/iis-test-log.js'
import { tempDir } from './support/temp-dir.js'

const ids = (evidence: Evidence): string[] => diagnose(evidence).map(h => h.id)

/** Responses and log lines as IIS, wfastcgi, Django and HttpPlatformHandler print them. */
const CAPTURED = {
  fastcgiExited: `<h3>HTTP Error 500.0 - Internal Server Error</h3>
<h4>C:\\inetpub\\django\\venvs\\3f2a\\Scripts\\python.exe - The FastCGI process exited unexpectedly</h4>
<tr><th>Module</th><td>FastCgiModule</td></tr>`,
  handlersLocked: `<h3>HTTP Error 500.19 - Internal Server Error</h3>
<h4>The requested page cannot be accessed because the related configuration data for the page is invalid.</h4>
<tr><th>Error Code</th><td>0x80070021</td></tr>
Config Error: This configuration section cannot be used at this path. This happens when the section is locked at a parent level. Locking is either by default (overrideModeDefault="Deny"), or set explicitly by a location tag with overrideMode="Deny" or the legacy allowOverride="false".`,
  unknownSection: `<h3>HTTP Error 500.19 - Internal Server Error</h3>
<tr><th>Error Code</th><td>0x8007000d</td></tr>`,
  scriptProcessor: `<h3>HTTP Error 500.0 - Internal Server Error</h3>
<h4>&lt;handler&gt; scriptProcessor could not be found in &lt;fastCGI&gt; application configuration</h4>`,
  badModule: `<h3>HTTP Error 500.21 - Internal Server Error</h3>
<h4>Handler "Python FastCGI" has a bad module "FastCgiModule" in its module list</h4>`,
  wsgiHandler: `Error occurred while reading WSGI handler:

Traceback (most recent call last):
  File "C:\\inetpub\\django\\venvs\\3f2a\\Lib\\site-packages\\wfastcgi.py", line 791, in main
    env, handler = read_wsgi_handler(response.physical_path)
  File "C:\\inetpub\\django\\venvs\\3f2a\\Lib\\site-packages\\wfastcgi.py", line 633, in read_wsgi_handler
    handler = get_wsgi_handler(os.getenv("WSGI_HANDLER"))
  File "C:\\inetpub\\django\\venvs\\3f2a\\Lib\\site-packages\\wfastcgi.py", line 616, in get_wsgi_handler
    raise ValueError('"%s" could not be imported%s' % (handler_name, last_tb))
ValueError: "django.core.wsgi.get_wsgi_application()" could not be imported

StdOut: 

StdErr: `,
  moduleMissing: `Traceback (most recent call last):
  File "manage.py", line 22, in <module>
ModuleNotFoundError: No module named 'rest_framework'`,
  disallowedHostLog: `Invalid HTTP_HOST header: 'app.example.org'. You may need to add 'app.example.org' to ALLOWED_HOSTS.
Bad Request: /app/`,
  disallowedHostPage: `<title>DisallowedHost
          at /app/</title>
<pre class="exception_value">Invalid HTTP_HOST header: &#x27;intranet.example.org&#x27;. You may need to add &#x27;intranet.example.org&#x27; to ALLOWED_HOSTS.</pre>`,
  platformTimeout: `<h3>HTTP Error 502.3 - Bad Gateway</h3>
<tr><th>Module</th><td>httpPlatformHandler</td></tr>
<tr><th>Error Code</th><td>0x80072ee2</td></tr>`,
  platformStart: `HTTP Error 502.5 - Process Failure
Common causes of this issue:
The application process failed to start
The application process started but then stopped
The application process started but failed to listen on the configured port`,
  platformEventLog: "Process '0' failed to start. Port = 28844, Error Code = '-2147024894'.",
  platformGateway: `<h3>HTTP Error 502.3 - Bad Gateway</h3>
<tr><th>Module</th><td>httpPlatformHandler</td></tr>
<tr><th>Error Code</th><td>0x80072efd</td></tr>`
}

describe('diagnose: one hint per known cause', () => {
  it('FastCGI process exited → pool identity cannot read Python/venv/app or write WSGI_LOG', () => {
    const [hint] = diagnose({ status: 500, body: CAPTURED.fastcgiExited })
    expect(hint?.id).toBe('fastcgi-exited')
    expect(hint?.hint).toContain('IIS AppPool\\<app-pool>')
    expect(hint?.hint).toContain('WSGI_LOG')
    expect(hint?.hint).toContain('pool-identity')
  })

  it('401.3 on a static file → the anonymous user cannot read the release', () => {
    const body =
      'HTTP Error 401.3 - Unauthorized\nYou do not have permission to view this directory or page because of the access control list (ACL) configuration or encryption settings for this resource on the Web server.'
    const hints = diagnose({ check: 'static', status: 401, body })
    expect(hints.map(h => h.id)).toEqual(['anonymous-user-acl'])
    expect(hints[0].hint).toMatch(/IUSR/)
    expect(hints[0].hint).toMatch(/anonymous-user/)
  })

  it('500.19 with 0x80070021 → handlers locked', () => {
    const hints = diagnose({ status: 500, body: CAPTURED.handlersLocked })
    expect(hints.map(h => h.id)).toEqual(['handlers-locked'])
    expect(hints[0]?.hint).toContain('-section:system.webServer/handlers')
  })

  it('500.19 with 0x8007000d → an unknown section, e.g. HttpPlatformHandler not installed', () => {
    expect(ids({ status: 500, body: CAPTURED.unknownSection })).toEqual(['config-unknown-section'])
  })

  it('scriptProcessor could not be found → registration vs handler mismatch', () => {
    const hints = diagnose({ status: 500, body: CAPTURED.scriptProcessor })
    expect(hints.map(h => h.id)).toEqual(['scriptprocessor-mismatch'])
    expect(hints[0]?.hint).toContain('fullPath|arguments')
  })

  it('bad module "FastCgiModule" → CGI feature missing', () => {
    const hints = diagnose({ status: 500, body: CAPTURED.badModule })
    expect(hints.map(h => h.id)).toEqual(['cgi-feature-missing'])
    expect(hints[0]?.hint).toContain('Web-CGI')
  })

  it('Error occurred while reading WSGI handler → WSGI_HANDLER, PYTHONPATH, settings module', () => {
    const hints = diagnose({ status: 500, wsgiLogTail: CAPTURED.wsgiHandler })
    expect(hints.map(h => h.id)).toEqual(['wsgi-handler'])
    expect(hints[0]?.hint).toContain('settings-module')
    expect(hints[0]?.hint).toContain('app-dir')
  })

  it('a missing Python module is named, from the preflight output', () => {
    const hints = diagnose({ preflightOutput: CAPTURED.moduleMissing })
    expect(hints.map(h => h.id)).toEqual(['module-missing'])
    expect(hints[0]?.hint).toContain("Python cannot import 'rest_framework'")
    expect(hints[0]?.hint).toContain('requirements')
  })

  it('DisallowedHost → ALLOWED_HOSTS, naming the host from the log line', () => {
    const hints = diagnose({ status: 400, stdoutLogTail: CAPTURED.disallowedHostLog, host: 'localhost' })
    expect(hints.map(h => h.id)).toEqual(['disallowed-host'])
    expect(hints[0]?.hint).toContain("'app.example.org'")
    expect(hints[0]?.hint).toContain('ALLOWED_HOSTS')
  })

  it("DisallowedHost → names the host from Django's debug page, whose quotes are escaped", () => {
    const [hint] = diagnose({ status: 400, body: CAPTURED.disallowedHostPage })
    expect(hint?.hint).toContain("Django refuses the host name 'intranet.example.org'")
  })

  it('DisallowedHost without the message names the host the request used', () => {
    const [hint] = diagnose({ status: 400, body: '<title>DisallowedHost at /</title>', host: 'web01.corp' })
    expect(hint?.hint).toContain("'web01.corp'")
  })

  it('static 404 → static vdir and its web.config', () => {
    const hints = diagnose({ check: 'static', status: 404, body: '<h1>Not Found</h1>' })
    expect(hints.map(h => h.id)).toEqual(['static-not-found'])
    expect(hints[0]?.hint).toContain('<app-path>/static')
    expect(ids({ check: 'main', status: 404 })).toEqual([])
  })

  it('static file answered as HTML → the Python handler serves the static path', () => {
    expect(ids({ check: 'static', status: 200, contentType: 'text/html; charset=utf-8' })).toEqual(['static-through-python'])
  })

  it('protected path answering 200 → Shibboleth Site id / RequestMap Host', () => {
    const [hint] = diagnose({ check: 'protected', status: 200 })
    expect(hint?.id).toBe('sso-not-protected')
    expect(hint?.hint).toContain('shibboleth-host')
  })

  it("SP Session handler answering IIS's 404 → the module does not map the site: ISAPI Site id and the recycle", () => {
    const hints = diagnose({ check: 'sso-handler', status: 404, body: '<h3>HTTP Error 404.0 - Not Found</h3>' })
    expect(hints.map(h => h.id)).toEqual(['sso-site-unknown'])
    expect(hints[0]?.hint).toMatch(/<Site id> must equal the IIS site id/)
    expect(hints[0]?.hint).toMatch(/appcmd recycle apppool/)
    // A 404 of the app itself is another cause.
    expect(ids({ check: 'main', status: 404 })).not.toContain('sso-site-unknown')
  })

  it('HttpPlatformHandler 502.3 with 0x80072ee2 → startupTimeLimit / listening port', () => {
    const hints = diagnose({ status: 502, body: CAPTURED.platformTimeout })
    expect(hints.map(h => h.id)).toEqual(['httpplatform-timeout'])
    expect(hints[0]?.hint).toContain('startupTimeLimit')
    expect(hints[0]?.hint).toContain('%HTTP_PLATFORM_PORT%')
  })

  it('HttpPlatformHandler 502.5 / process failed to start → processPath, package, stdout log', () => {
    expect(ids({ status: 502, body: CAPTURED.platformStart })).toEqual(['httpplatform-start'])
    expect(ids({ status: 502, stdoutLogTail: CAPTURED.platformEventLog })).toEqual(['httpplatform-start'])
    expect(diagnose({ status: 502, body: CAPTURED.platformStart })[0]?.hint).toContain('httpplatform-package')
  })

  it('HttpPlatformHandler 502.3 other than a timeout → the process is not reachable', () => {
    expect(ids({ status: 502, body: CAPTURED.platformGateway })).toEqual(['httpplatform-gateway'])
  })

  it('an untrusted certificate → verify-ca-bundle', () => {
    expect(
      ids({
        detail:
          'TLS: certificate of intranet.example.org is not trusted (UNABLE_TO_GET_ISSUER_CERT_LOCALLY): pass verify-ca-bundle or fix the chain'
      })
    ).toEqual(['tls-untrusted'])
  })

  it('nothing known → no hint', () => {
    expect(diagnose({ status: 503, body: 'Service Unavailable' })).toEqual([])
  })

  it('every hint in the table names an input or a server setting', () => {
    const inputs =
      /app-pool|pool-identity|python|deploy-root|settings-module|app-dir|requirements|verify-\w+|shibboleth-\w+|httpplatform-\w+|hosting|templates|<app-path>|<site-name>|system\.webServer\/\w+|ALLOWED_HOSTS|Web-CGI/
    for (const rule of HINTS) expect(rule.hint, rule.id).toMatch(inputs)
    expect(new Set(HINTS.map(r => r.id)).size).toBe(HINTS.length)
  })
})

describe('evidence from checks and the diagnosis group', () => {
  const failed: UrlCheckResult[] = [
    {
      name: 'main',
      kind: 'main',
      url: 'http://127.0.0.1/app/',
      ok: false,
      status: 500,
      ms: 900,
      attempts: 5,
      detail: 'HTTP 500, expected 200',
      bodyStart: CAPTURED.fastcgiExited
    },
    {
      name: 'static',
      kind: 'static',
      url: 'http://127.0.0.1/app/static/admin/css/base.css',
      ok: false,
      status: 500,
      ms: 900,
      attempts: 5,
      detail: 'HTTP 500, expected 200',
      bodyStart: CAPTURED.fastcgiExited
    },
    { name: 'extra 1', kind: 'extra', url: 'http://127.0.0.1/app/health', ok: true, status: 200, ms: 10, attempts: 1, detail: 'HTTP 200' }
  ]

  it('diagnoses failed checks only, each hint once', () => {
    const evidence = evidenceFromChecks(failed, {
      wsgiLogTail: '(no file at C:\\x\\wfastcgi.log: the process never wrote to it, or cannot)'
    })
    expect(evidence.map(e => e.check)).toEqual(['main', 'static'])
    expect(diagnoseAll(evidence).map(h => h.id)).toEqual(['fastcgi-exited'])
  })

  it('prints status, body start, log tail and hints in one group', async () => {
    const log = captureLog()
    const groups: string[] = []
    const hints = await reportDiagnosis(
      { ...log, group: (name, fn) => (groups.push(name), fn()) },
      evidenceFromChecks(failed, { wsgiLogTail: 'last wsgi line' })
    )
    expect(groups).toEqual(['Diagnosis'])
    expect(hints.map(h => h.id)).toEqual(['fastcgi-exited'])
    expect(log.lines).toContain('info: main: HTTP 500 — HTTP 500, expected 200')
    expect(log.lines.filter(l => l.includes('last wsgi line'))).toHaveLength(1)
    expect(log.lines.some(l => l.startsWith('info: hint (fastcgi-exited): The FastCGI process exited unexpectedly.'))).toBe(true)
  })
})

describe('tailFile', () => {
  const dir = tempDir('tail')

  it('returns the last lines', () => {
    const file = path.join(dir, 'wfastcgi.log')
    fs.writeFileSync(file, Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join('\r\n') + '\r\n')
    expect(tailFile(file, 3)).toBe('line 98\nline 99\nline 100')
    expect(tailFile(file).split('\n')).toHaveLength(40)
  })

  it('reads only the end of a large file and drops the cut line', () => {
    const file = path.join(dir, 'big.log')
    fs.writeFileSync(file, `${'x'.repeat(200_000)}\nlast one\n`)
    expect(tailFile(file, 40)).toBe('last one')
  })

  it('says so when the file is missing or empty', () => {
    const missing = path.join(dir, 'none.log')
    expect(tailFile(missing)).toBe(`(no file at ${missing}: the process never wrote to it, or cannot)`)
    const empty = path.join(dir, 'empty.log')
    fs.writeFileSync(empty, '')
    expect(tailFile(empty)).toBe(`(${empty} is empty)`)
  })
})
