/** The table of known failure causes and their hints that src/diagnose.ts matches evidence against. */
import type { Evidence } from './diagnose.js'

/**
 * One known cause. `matches` is a regular expression tried on all the evidence's text (status line included,
 * as `HTTP <status>`), or a predicate on the evidence. In `hint`, `{1}` is the regex's first capture group
 * (or the evidence's host when there is none).
 */
export interface HintRule {
  id: string
  cause: string
  matches: RegExp | ((evidence: Evidence) => boolean)
  hint: string
}

/** The known causes and their hints (docs/verify-diagnose-report.md; the IIS pages they match: docs/windows-facts.md). */
export const HINTS: readonly HintRule[] = [
  {
    id: 'fastcgi-exited',
    cause: 'The FastCGI process exited unexpectedly',
    matches: /The FastCGI process exited unexpectedly/i,
    hint:
      'The app pool identity could not start Python: give IIS AppPool\\<app-pool> read and execute on the Python installation ' +
      '(not one installed per user under C:\\Users; set python to an all-users install), on the venv and release under deploy-root, ' +
      'and modify on the folder of WSGI_LOG (deploy-root\\logs); or choose another pool-identity.'
  },
  {
    id: 'handlers-locked',
    cause: 'HTTP 500.19: system.webServer/handlers is locked (0x80070021)',
    matches: /0x80070021|section is locked at a parent level|cannot be used at this path/i,
    hint:
      "The handlers section is locked at server level, so the app's web.config may not declare its handler: run the deploy as an administrator so it can " +
      'run `appcmd unlock config "<site-name>/<app-path>" -section:system.webServer/handlers`, or unlock it once in IIS Manager (Feature Delegation: Handler Mappings, Read/Write).'
  },
  {
    id: 'anonymous-user-acl',
    cause: 'HTTP 401.3: the anonymous user may not read the file (ACL)',
    matches: /\b401\.3\b|access control list \(ACL\) configuration/i,
    hint:
      "Files of anonymous requests are read as the site's anonymous user (IUSR by default) unless the app uses the pool identity for them: " +
      'leave anonymous-user at pool (the default, which the deploy grants read), or, with anonymous-user: keep, give IUSR read on deploy-root\\releases.'
  },
  {
    id: 'config-unreadable',
    cause: "HTTP 500.19: IIS cannot read the app's web.config as the pool identity (0x80070005, WinError 5)",
    matches: /0x80070005|insufficient permissions|\[WinError 5\]/i,
    hint:
      'The app pool identity may not read the release: the deploy grants IIS AppPool\\<app-pool> read and execute on it, so look for what overrides that grant, ' +
      'a Deny entry or broken inheritance on deploy-root (`icacls <deploy-root>\\releases\\<release>` lists them), or a pool-identity other than the one granted.'
  },
  {
    id: 'config-unknown-section',
    cause: 'HTTP 500.19: web.config holds a section IIS does not know (0x8007000d)',
    matches: /0x8007000d/i,
    hint:
      'IIS cannot read web.config: with hosting httpplatform install the HttpPlatformHandler module on the server (its <httpPlatform> section is unknown without it); ' +
      'a custom template (templates input) may also have produced malformed XML.'
  },
  {
    id: 'scriptprocessor-mismatch',
    cause: 'scriptProcessor could not be found in <fastCGI> application configuration',
    matches: /scriptProcessor could not be found/i,
    hint:
      "The handler's scriptProcessor must equal a registered FastCGI application's fullPath|arguments byte for byte: redeploy so both come from one plan, " +
      'do not edit the handler in web.config by hand, and avoid hand-made fastCgi entries for the same python.exe; paths with spaces under deploy-root must be quoted identically in both.'
  },
  {
    id: 'cgi-feature-missing',
    cause: 'Handler has a bad module "FastCgiModule" in its module list',
    matches: /bad module\s+"?FastCgiModule"?/i,
    hint:
      'The IIS CGI feature is not installed: on Windows Server run `Install-WindowsFeature Web-CGI`, on Windows client ' +
      '`Enable-WindowsOptionalFeature -Online -FeatureName IIS-CGI`; or use hosting httpplatform.'
  },
  {
    id: 'wsgi-handler',
    cause: 'Error occurred while reading WSGI handler',
    matches: /Error occurred while reading WSGI handler/i,
    hint:
      'wfastcgi could not import the app: check settings-module (the traceback names the module), that app-dir is the folder holding manage.py (it becomes PYTHONPATH), ' +
      "and that WSGI_HANDLER names the project's wsgi module; an app kept under C:\\Users is not readable by the pool identity, so keep deploy-root outside user profiles."
  },
  {
    id: 'module-missing',
    cause: 'A Python module cannot be imported',
    matches: /No module named '([^']+)'/,
    hint: "Python cannot import '{1}': add its package to the requirements file (requirements input), or, if it is the project's own module, fix settings-module or app-dir."
  },
  {
    id: 'disallowed-host',
    cause: 'DisallowedHost: the host is not in ALLOWED_HOSTS',
    // Django's debug page HTML-escapes the quotes; its title names DisallowedHost before the message.
    matches: /(?:DisallowedHost[\s\S]*?)?Invalid HTTP_HOST header: (?:'|&#x27;|&#39;)([^'&]*)|DisallowedHost/,
    hint:
      "Django refuses the host name '{1}': add it to ALLOWED_HOSTS in the settings (e.g. through an env input the settings read), " +
      'or set verify-host / verify-url to a host that is already allowed.'
  },
  {
    id: 'static-not-found',
    cause: 'Static files answer 404 (admin without styles)',
    matches: e => e.check === 'static' && e.status === 404,
    hint:
      "Collected static files are not served: the app needs a virtual directory <app-path>/static pointing at the release's collected files, with a web.config " +
      'that clears the inherited Python handler and serves StaticFile first; STATIC_URL in the settings must be static/ (relative) or <app-path>/static/.'
  },
  {
    id: 'static-through-python',
    cause: 'A static file is answered by the Python handler',
    matches: e => e.check === 'static' && e.status === 200 && e.contentType !== undefined && /text\/html/i.test(e.contentType),
    hint:
      "The static URL reaches Django instead of IIS's StaticFile handler: the static virtual directory's web.config must <clear/> the handlers " +
      '(or remove "Python FastCGI") before adding StaticFile, which needs system.webServer/handlers unlocked.'
  },
  {
    id: 'sso-not-protected',
    cause: 'The protected path answers without a login',
    matches: e => e.check === 'protected' && e.status === 200,
    hint:
      'The Shibboleth SP does not protect <app-path>: the ISAPI <Site id> must equal the IIS site id and its name, like the RequestMap <Host name>, must be the host users type ' +
      "(shibboleth-host); after changing shibboleth2.xml the shibboleth-service must be restarted, and after changing its <ISAPI> the pools of the site's apps recycled."
  },
  {
    id: 'sso-site-unknown',
    cause: "The Shibboleth IIS module does not map the site: /Shibboleth.sso/Session answers IIS's own 404",
    matches: e => e.check === 'sso-handler' && e.status === 404,
    hint:
      'The IIS module (iis7_shib) reads <ISAPI><Site> once per worker process and ignores requests of a site it does not list. In shibboleth2.xml the <Site id> must equal ' +
      'the IIS site id (appcmd list site "<site-name>" shows id:N) and its name must be shibboleth-host; after a change the workers must restart: recycle the pool of every app of the site ' +
      '(appcmd list apps /site.name:"<site-name>", then appcmd recycle apppool /apppool.name:<pool>), the root app\'s first, or run iisreset.'
  },
  {
    id: 'httpplatform-timeout',
    cause: 'HTTP 502.3 from HttpPlatformHandler: the app did not answer in time (0x80072ee2, WinHTTP timeout)',
    matches: /0x80072ee2/i,
    hint:
      'HttpPlatformHandler gave up waiting: the app must listen on %HTTP_PLATFORM_PORT% (httpplatform-command) within startupTimeLimit (default 10 s) ' +
      'and answer within requestTimeout (default 2 min); slow imports at startup need a larger startupTimeLimit in the web.config template.'
  },
  {
    id: 'httpplatform-start',
    cause: 'HttpPlatformHandler could not start the app process (502.5, "failed to start")',
    matches:
      /HTTP Error 502\.5|HttpPlatformHandler Startup Failure|failed to start process|Process '\d+' failed to start|Maximum rapid fail count/i,
    hint:
      "The app process did not start or exited: processPath must be the venv's python.exe under deploy-root and readable by the pool identity, the server package " +
      '(httpplatform-package) must be installed in the venv, and httpplatform-command must make it listen on %HTTP_PLATFORM_PORT%; its stdout log under deploy-root\\logs tells why.'
  },
  {
    id: 'httpplatform-gateway',
    cause: 'HTTP 502.3 Bad Gateway from HttpPlatformHandler',
    matches: e => /502\.3/.test(textOf(e)) && /httpPlatformHandler/i.test(textOf(e)) && !/0x80072ee2/i.test(textOf(e)),
    hint: 'HttpPlatformHandler could not reach the app process: check that httpplatform-command listens on %HTTP_PLATFORM_PORT% on 127.0.0.1, and read the stdout log under deploy-root\\logs for a crash.'
  },
  {
    id: 'tls-untrusted',
    cause: 'The site certificate is not trusted by the runner',
    matches: /certificate of \S+ is not trusted/,
    hint: "Pass the internal CA as a PEM file in verify-ca-bundle (or fix the site binding's certificate chain); verify-insecure skips the check but is warned about."
  }
]

/** All the evidence's text, status line included as `HTTP <status>`, that a rule's regex is tried on. */
export function textOf(evidence: Evidence): string {
  return [
    evidence.status !== undefined ? `HTTP ${evidence.status}` : '',
    evidence.detail,
    evidence.body,
    evidence.wsgiLogTail,
    evidence.stdoutLogTail,
    evidence.preflightOutput
  ]
    .filter(Boolean)
    .join('\n')
}
