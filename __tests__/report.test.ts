import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Redactor } from '../src/masking.js'
import * as core from '../src/workflow-commands.js'
import { INSECURE_TLS_WARNING, renderSummary, setOutputs, writeSummary, type RunReport } from '../src/report.js'
import type { UrlCheckResult } from '../src/verify/checks.js'
import { parseOutputFile } from './support/run-action.js'
import { tempDir } from './support/temp-dir.js'

const SECRET = 's3cr3t-Database-P4ss'

function check(overrides: Partial<UrlCheckResult>): UrlCheckResult {
  return {
    name: 'main',
    kind: 'main',
    url: 'http://localhost/app/',
    ok: true,
    status: 200,
    ms: 420,
    attempts: 2,
    detail: 'HTTP 200',
    ...overrides
  }
}

function report(overrides: Partial<RunReport> = {}): RunReport {
  return {
    mode: 'deploy',
    target: { site: 'Default Web Site', appPath: '/app', pool: 'DefaultWebSite-app', deployRoot: 'C:\\inetpub\\django' },
    releaseId: '1234-1',
    url: 'http://localhost/app/',
    planPath: 'C:\\runner\\_temp\\django-iis-deploy\\plan.json',
    changed: true,
    rolledBack: false,
    objects: [
      { kind: 'APPPOOL', name: 'DefaultWebSite-app', status: 'created' },
      { kind: 'APP', name: 'Default Web Site/app', status: 'changed' },
      { kind: 'VDIR', name: 'Default Web Site/app/static', status: 'unchanged' },
      { kind: 'FASTCGI', name: 'C:\\inetpub\\django\\venvs\\old\\Scripts\\python.exe|wfastcgi.py', status: 'removed' }
    ],
    files: [
      { path: 'C:\\inetpub\\django\\releases\\1234-1\\web.config', status: 'written' },
      { path: 'C:\\inetpub\\django\\releases\\1234-1\\static\\web.config', status: 'unchanged' }
    ],
    shibboleth: { changed: true, restarted: true },
    phases: [
      { name: 'stage', ms: 61_234, ok: true },
      { name: 'apply', ms: 2100, ok: true },
      { name: 'verify', ms: 640, ok: true }
    ],
    checks: [
      check({}),
      check({
        name: 'static',
        kind: 'static',
        url: 'http://localhost/app/static/admin/css/base.css',
        detail: 'HTTP 200, text/css',
        attempts: 1,
        ms: 12
      })
    ],
    hints: [],
    warnings: [],
    ...overrides
  }
}

describe('renderSummary', () => {
  it("names the app pools recycled for the Shibboleth IIS module's site list", () => {
    const md = renderSummary(
      report({ shibboleth: { changed: true, restarted: true, recycledPools: ['DefaultAppPool', 'DefaultWebSite-app'] } })
    )
    expect(md).toContain(
      "Shibboleth SP configuration changed; service restarted. App pools recycled for the IIS module's site list: `DefaultAppPool`, `DefaultWebSite-app`."
    )
  })

  it('says what the recovery of an interrupted run did, masked, above the tables', () => {
    const redactor = new Redactor()
    redactor.add('tok-Zq81-very-secret')
    const notice = 'Recovered the interrupted run of release r2: Default Web Site/app serves C:\\r1 again (tok-Zq81-very-secret)'
    const md = renderSummary(report({ recovery: { ok: true, releaseId: 'r2', notice } }), t => redactor.redact(t))
    expect(md).toContain('**Recovered:** Recovered the interrupted run of release r2: Default Web Site/app serves C:\\r1 again (***)')
    expect(renderSummary(report({ recovery: { ok: false, releaseId: 'r2', notice: 'x' } }))).toContain('**NOT recovered:** x')
    expect(renderSummary(report())).not.toContain('ecovered')
  })

  it('renders target, object, file, phase and check tables for a successful deploy', () => {
    const md = renderSummary(report())
    expect(md).toMatch(/^## ✅ Deployed release `1234-1`\n/)
    expect(md).toContain('| Site | Default Web Site |')
    expect(md).toContain('| Deploy root | `C:\\inetpub\\django` |')
    expect(md).toContain('| Plan | `C:\\runner\\_temp\\django-iis-deploy\\plan.json` |')
    expect(md).toContain('| Changed | yes |')
    expect(md).toContain('| Rolled back | no |')
    expect(md).toContain('### IIS objects (1 created, 1 changed, 1 removed, 1 unchanged)')
    expect(md).toContain('| APPPOOL | DefaultWebSite-app | created |')
    expect(md).toContain('| VDIR | Default Web Site/app/static | unchanged |')
    // A | inside a value must not split the row.
    expect(md).toContain('| FASTCGI | C:\\inetpub\\django\\venvs\\old\\Scripts\\python.exe\\|wfastcgi.py | removed |')
    expect(md).toContain('### Files (1 written, 1 unchanged)')
    expect(md).toContain('| `C:\\inetpub\\django\\releases\\1234-1\\web.config` | written |')
    expect(md).toContain('Shibboleth SP configuration changed; service restarted.')
    expect(md).toContain('| stage | 61.2 s | ✅ ok |')
    expect(md).toContain('| apply | 2.1 s | ✅ ok |')
    expect(md).toContain('| main | http://localhost/app/ | ✅ passed | 200 | 420 ms | 2 | HTTP 200 |')
    expect(md).toContain('| static | http://localhost/app/static/admin/css/base.css | ✅ passed | 200 | 12 ms | 1 | HTTP 200, text/css |')
    expect(md).not.toContain('### Rollback')
    expect(md).not.toContain('Warning')
  })

  it('renders a failed verify with its rollback, the restored release checks, hints and the body start', () => {
    const md = renderSummary(
      report({
        rolledBack: true,
        error: 'verify failed: main: HTTP 500, expected 200',
        phases: [
          { name: 'apply', ms: 2100, ok: true },
          { name: 'verify', ms: 30_000, ok: false }
        ],
        checks: [
          check({
            ok: false,
            status: 500,
            attempts: 40,
            ms: 30_000,
            detail: 'HTTP 500, expected 200 (gave up after 40 attempts in 30.0 s)',
            bodyStart: '<h3>HTTP Error 500.0</h3>\n``` fenced ```\nThe FastCGI process exited unexpectedly'
          })
        ],
        rollback: { ok: true, detail: 'restored backup django-iis-deploy-1233-1 and release 1233-1', checks: [check({ attempts: 3 })] },
        hints: [
          { id: 'fastcgi-exited', cause: 'The FastCGI process exited unexpectedly', hint: 'give IIS AppPool\\<app-pool> read access' }
        ]
      })
    )
    expect(md).toMatch(/^## ❌ deploy of release `1234-1` failed, previous release restored\n/)
    expect(md).toContain('**Error:** verify failed: main: HTTP 500, expected 200')
    expect(md).toContain('| verify | 30.0 s | ❌ failed |')
    expect(md).toContain(
      '| main | http://localhost/app/ | ❌ failed | 500 | 30.0 s | 40 | HTTP 500, expected 200 (gave up after 40 attempts in 30.0 s) |'
    )
    expect(md).toContain('### Rollback\n\n✅ Rollback succeeded: restored backup django-iis-deploy-1233-1 and release 1233-1')
    expect(md).toContain('#### Verify of the restored release')
    expect(md).toContain('| main | http://localhost/app/ | ✅ passed | 200 | 420 ms | 3 | HTTP 200 |')
    expect(md).toContain('- **The FastCGI process exited unexpectedly** — give IIS AppPool\\&lt;app-pool&gt; read access')
    // The body keeps its lines in a code block whose fence the body cannot close.
    expect(md).toContain('````text\n<h3>HTTP Error 500.0</h3>\n``` fenced ```\nThe FastCGI process exited unexpectedly\n````')
  })

  it('says when the rollback itself failed', () => {
    const md = renderSummary(
      report({ rolledBack: false, error: 'apply failed', rollback: { ok: false, detail: 'appcmd restore backup: exit 1', checks: [] } })
    )
    expect(md).toContain('❌ Rollback failed: appcmd restore backup: exit 1')
    expect(md).not.toContain('Verify of the restored release')
  })

  it('warns about insecure TLS and lists other warnings', () => {
    const md = renderSummary(report({ insecureTls: true, warnings: ['keep-releases 1 keeps no previous release'] }))
    expect(md).toContain(`> ⚠️ **Warning:** ${INSECURE_TLS_WARNING}`)
    expect(md).toContain('> ⚠️ **Warning:** keep-releases 1 keeps no previous release')
  })

  it('passes every text through redact, even where escaping would split the secret', () => {
    const redactor = new Redactor()
    redactor.add(SECRET)
    redactor.add('a|b<c')
    const md = renderSummary(
      report({
        error: `settings failed: DATABASE_URL=postgres://app:${SECRET}@db/app`,
        warnings: ['value a|b<c leaked'],
        checks: [check({ ok: false, status: 500, detail: `HTTP 500 ${SECRET}`, bodyStart: `password = ${SECRET}` })]
      }),
      text => redactor.redact(text)
    )
    expect(md).not.toContain(SECRET)
    expect(md).not.toContain('a\\|b&lt;c')
    expect(md).toContain('postgres://app:***@db/app')
    expect(md).toContain('value *** leaked')
    expect(md).toContain('password = ***')
  })

  it('is plain about a stage run with nothing applied', () => {
    const md = renderSummary(report({ mode: 'stage', changed: false, objects: [], files: [], shibboleth: undefined, checks: [] }))
    expect(md).toMatch(/^## ✅ Staged release `1234-1`/)
    expect(md).not.toContain('### IIS objects')
    expect(md).not.toContain('### Verify')
  })
})

describe('writeSummary and setOutputs with the runner files (src/workflow-commands.ts)', () => {
  const saved = { summary: process.env.GITHUB_STEP_SUMMARY, output: process.env.GITHUB_OUTPUT }
  afterEach(() => {
    process.env.GITHUB_STEP_SUMMARY = saved.summary ?? ''
    process.env.GITHUB_OUTPUT = saved.output ?? ''
    if (saved.summary === undefined) delete process.env.GITHUB_STEP_SUMMARY
    if (saved.output === undefined) delete process.env.GITHUB_OUTPUT
  })

  it('does not throw outside a runner, and says why', async () => {
    delete process.env.GITHUB_STEP_SUMMARY
    const warnings: string[] = []
    const ok = await writeSummary(report(), core.summary, { log: { warning: m => warnings.push(m) } })
    expect(ok).toBe(false)
    expect(warnings[0]).toMatch(/^job summary not written: .*GITHUB_STEP_SUMMARY/)
  })

  it('appends the redacted markdown to the job summary file', async () => {
    const file = path.join(tempDir('summary'), 'step_summary.md')
    fs.writeFileSync(file, '')
    process.env.GITHUB_STEP_SUMMARY = file
    const ok = await writeSummary(report({ error: `boom ${SECRET}` }), core.summary, { redact: t => t.split(SECRET).join('***') })
    expect(ok).toBe(true)
    const written = fs.readFileSync(file, 'utf8')
    expect(written).toContain('| APPPOOL | DefaultWebSite-app | created |')
    expect(written).toContain('**Error:** boom ***')
    expect(written).not.toContain(SECRET)
  })

  it('sets url, release, changed, rolled-back, plan and previous-release', () => {
    const file = path.join(tempDir('outputs'), 'output')
    fs.writeFileSync(file, '')
    process.env.GITHUB_OUTPUT = file
    setOutputs(report({ rolledBack: true, changed: false, previousRelease: '1233-1' }))
    const text = fs.readFileSync(file, 'utf8')
    expect(parseOutputFile(text)).toEqual({
      url: 'http://localhost/app/',
      release: '1234-1',
      changed: 'false',
      'rolled-back': 'true',
      plan: 'C:\\runner\\_temp\\django-iis-deploy\\plan.json',
      'previous-release': '1233-1'
    })
  })
})
