// The verdicts of scripts/probe-iis.ps1, checked on Linux where no PowerShell runs: its expectations (the JSON
// between the script's markers) applied to answers in the forms docs/windows-facts.md cites, and to the answers
// of this repository's doubles, which must agree with the expectations a real server is held to.
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DOMParser } from '@xmldom/xmldom'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createIisSandbox, type IisSandbox } from './support/iis-sandbox.js'
import { probeExpectations, probeVerdict, PROBE_SCRIPT, type ProbeObservation } from './support/probe-expectations.js'
import { runDouble } from './support/run-double.js'

const checks = probeExpectations()
const TAG = 'diisprobe-0a1b2c3d'
const out = (exit: number, stdout: string, stderr = ''): ProbeObservation => ({ exit, stdout, stderr })
const text = (stdout: string): ProbeObservation => ({ exit: null, stdout, stderr: '' })
const verdictOf = (id: string, obs: ProbeObservation | undefined) => {
  const check = checks[id]
  if (!check) throw new Error(`no probe check ${id}`)
  return probeVerdict(check, obs)
}

describe('the expectations block of scripts/probe-iis.ps1', () => {
  it('is JSON with an accepted form for every check, and regexes that compile', () => {
    expect(Object.keys(checks).length).toBeGreaterThan(30)
    for (const [id, check] of Object.entries(checks)) {
      expect(check.accept.length, id).toBeGreaterThan(0)
      for (const f of [...check.accept, ...(check.reject ?? [])]) {
        expect(f.exit ?? f.exitNot ?? f.stdout ?? f.stderr, `${id}/${f.form} constrains nothing`).toBeDefined()
        for (const re of [f.stdout, f.stderr]) if (re !== undefined) expect(() => new RegExp(re, 'i')).not.toThrow()
      }
    }
  })

  it('names in the script every check it declares, and runs the disruptive ones only behind -Disruptive', () => {
    const script = readFileSync(PROBE_SCRIPT, 'utf8')
    const body = script.slice(script.indexOf('# ---- END EXPECTATIONS ----'))
    for (const [id, check] of Object.entries(checks)) {
      expect(body, `no code records ${id}`).toMatch(new RegExp(`'${id}'`))
      if (check.disruptive) expect(body).toMatch(new RegExp(`\\$disruptiveIds = @\\([^)]*'${id}'`))
    }
  })

  it('records with its exit code every check whose forms constrain one (Save-Text records none)', () => {
    const script = readFileSync(PROBE_SCRIPT, 'utf8')
    const body = script.slice(script.indexOf('# ---- END EXPECTATIONS ----'))
    for (const [id, check] of Object.entries(checks)) {
      if (!check.accept.some(f => f.exit !== undefined)) continue
      expect(body, `${id} has an exit constraint but is recorded by Save-Text, so it can never PASS`).not.toMatch(
        new RegExp(`Save-Text '${id}'`)
      )
    }
  })
})

describe('verdicts on the answer forms the sources record', () => {
  it.each([
    ['list-site-miss', out(1, ''), 'PASS', 'silent (jexusmanager)'],
    ['list-site-miss', out(1168, `ERROR ( message:Cannot find SITE object with identifier "${TAG}-nosuch". )\r\n`), 'PASS', 'cannot-find'],
    ['list-apppool-miss', out(1, '<?xml version="1.0" encoding="UTF-8"?>\r\n<appcmd>\r\n</appcmd>\r\n'), 'PASS', 'empty appcmd'],
    [
      'list-apppool-miss',
      out(0, `<?xml version="1.0" encoding="UTF-8"?>\r\n<appcmd>\r\n    <APPPOOL APPPOOL.NAME="DefaultAppPool" />\r\n</appcmd>\r\n`),
      'FAIL',
      'no accepted form'
    ],
    ['list-vdir-miss', out(1168, `ERROR ( message:Cannot find VDIR object with identifier "${TAG}-nosuch/". )\r\n`), 'PASS', 'cannot-find'],
    // Forms src/iis/appcmd.ts (isListMiss) reads as "none" too: the message whatever the exit code, a self-closed
    // <appcmd/>.
    ['list-vdir-miss', out(1, `ERROR ( message:Cannot find VDIR object with identifier "${TAG}-nosuch/". )\r\n`), 'PASS', 'cannot-find'],
    ['list-site-miss', out(1, '<?xml version="1.0" encoding="UTF-8"?>\r\n<appcmd />\r\n'), 'PASS', 'empty appcmd'],
    ['list-apppool-miss', out(0, '<appcmd/>'), 'PASS', 'empty appcmd'],
    ['list-apps-site-miss', out(0, ''), 'PASS', 'empty, exit 0 (jexusmanager)'],
    ['list-apps-site-miss', out(1168, 'ERROR ( message:Cannot find SITE object with identifier "x". )'), 'FAIL', 'no accepted form'],
    ['dup-apppool', out(183, `ERROR ( message:Failed to add duplicate collection element "${TAG}-pool". )\r\n`), 'PASS', 'documented'],
    [
      'dup-apppool',
      out(183, '', `ERROR ( message:Failed to add duplicate collection element "${TAG}-pool". )`),
      'FAIL',
      'no accepted form'
    ],
    [
      'dup-fastcgi',
      out(
        183,
        "ERROR ( message:New application object missing required attributes. Cannot add duplicate collection entry of type 'application' with combined key attributes 'fullPath, arguments' respectively set to 'C:\\Windows\\system32\\cmd.exe, /c rem x'\r\n. )"
      ),
      'PASS',
      'documented'
    ],
    ['remove-missing-element', out(4312, 'ERROR ( message:Cannot find requested collection element. )\r\n'), 'PASS', 'documented'],
    ['remove-missing-element', out(0, 'Applied configuration changes'), 'FAIL', 'no accepted form'],
    [
      'malformed-indexer',
      out(87, "ERROR ( message:Malformed collection indexer; format is [@position,name='value',...]. )"),
      'PASS',
      'as the double'
    ],
    ['malformed-indexer', out(13, 'ERROR ( message:something else )'), 'PASS', 'another ERROR'],
    ['malformed-indexer', out(0, ''), 'FAIL', 'no accepted form'],
    ['value-percent-u', text('set-exit=0 value=x%u0041y'), 'PASS', 'verbatim'],
    ['value-percent-u', text('set-exit=0 value=xAy'), 'FAIL', 'decoded'],
    ['value-tab', text('set-exit=0 value=x\\ty'), 'PASS', 'verbatim'],
    ['value-tab', text('set-exit=0 value=x y'), 'FAIL', 'tab became a space'],
    ['value-quote', text('set-exit=0 value=x"y'), 'PASS', 'verbatim'],
    ['value-quote', text('set-exit=0 value=x\\"y'), 'FAIL', 'no accepted form'],
    ['indexer-quote', text('set-exit=87 ERROR ( message:Malformed collection indexer ... )'), 'PASS', 'refused'],
    ['env-empty-value', out(13, 'ERROR ( message:The data is invalid. )'), 'PASS', 'as the double'],
    ['env-empty-value', out(0, 'Applied configuration changes to section "system.webServer/fastCgi"'), 'FAIL', 'stored'],
    ['add-apppool-empty-runtime', text('add-exit=0 runtime=""'), 'PASS', 'stored empty'],
    ['add-apppool-empty-runtime', text('add-exit=0 runtime="v4.0"'), 'FAIL', 'default kept'],
    ['anon-empty-username', text('set-exit=0 userName=""'), 'PASS', 'stored empty'],
    ['anon-empty-username', text('set-exit=0 userName="IUSR"'), 'FAIL', 'empty ignored'],
    [
      'list-config-merged',
      out(0, '<files>\n<add value="diisprobe-apphost.html" />\n<add value="diisprobe-webconfig.html" />'),
      'PASS',
      'merged'
    ],
    ['list-config-merged', out(0, '<files>\n<add value="diisprobe-apphost.html" />'), 'FAIL', 'applicationHost.config only'],
    [
      'stop-stopped-site',
      out(1062, 'ERROR ( hresult:80070426, message:Command execution failed.\nThe service has not been started.\n )'),
      'PASS',
      'as the double'
    ],
    ['stop-stopped-site', out(0, `"${TAG}-site" successfully stopped`), 'FAIL', 'no accepted form'],
    ['stop-message', out(0, `"${TAG}-site" successfully stopped\r\n`), 'PASS', 'documented'],
    [
      'icacls-missing-path',
      out(2, 'Successfully processed 0 files; Failed processing 1 files', 'C:\\t\\nosuch: The system cannot find the file specified.'),
      'PASS',
      'as the double'
    ],
    ['icacls-missing-path', out(2, 'C:\\t\\nosuch: The system cannot find the file specified.'), 'FAIL', 'no accepted form'],
    [
      'restore-services',
      text('restore-exit=0 W3SVC=Running->Running WAS=Running->Running right-after=W3SVC:Stopped,WAS:Running'),
      'PASS',
      'services back'
    ],
    [
      'restore-services',
      text('restore-exit=0 W3SVC=Running->Stopped WAS=Running->Running right-after=W3SVC:Stopped,WAS:Running'),
      'FAIL',
      'left stopped'
    ],
    [
      'restore-services',
      text('restore-exit=0 W3SVC=Running->Running WAS=Running->StopPending right-after=W3SVC:Running,WAS:StopPending'),
      'FAIL',
      'left stopped'
    ],
    ['restore-workers', text('workers before=10,12 after=10,12 kept=2 gone=0'), 'PASS', 'workers kept (recycle needed)'],
    ['restore-workers', text('workers before=10 after=44 kept=0 gone=1'), 'PASS', 'workers replaced'],
    ['runner-node24', text('runner=2.330.0 atLeast2.327.1=True'), 'PASS', 'new enough'],
    ['runner-node24', text('runner=2.326.0 atLeast2.327.1=False'), 'FAIL', 'too old'],
    // The forms __tests__/doctor.test.ts answers with (docs/windows-facts.md, dr-*).
    [
      'sc-query-running',
      out(
        0,
        '\r\nSERVICE_NAME: W3SVC\r\n        TYPE               : 20  WIN32_SHARE_PROCESS\r\n        STATE              : 4  RUNNING\r\n'
      ),
      'PASS',
      'state line'
    ],
    ['sc-query-running', out(0, '\r\nSERVICE_NAME: W3SVC\r\n        STATE              : 1  STOPPED\r\n'), 'FAIL', 'no accepted form'],
    [
      'sc-query-missing',
      out(
        1060,
        '[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\nThe specified service does not exist as an installed service.\r\n'
      ),
      'PASS',
      'exit 1060'
    ],
    ['sc-query-missing', out(36, 'The specified service does not exist as an installed service.'), 'PASS', 'message only'],
    [
      'globalmodules-fastcgi',
      out(0, '<globalModules>\r\n    <add name="FastCgiModule" image="%windir%\\System32\\inetsrv\\iisfcgi.dll" />\r\n</globalModules>'),
      'PASS',
      'add element'
    ],
    [
      'globalmodules-fastcgi',
      out(0, '<globalModules>\r\n    <add name="StaticFileModule" image="static.dll" />\r\n</globalModules>'),
      'FAIL',
      'no accepted form'
    ],
    [
      'fsutil-volumeinfo',
      out(0, 'Volume Name : \r\nMax Component Length : 255\r\nFile System Name : NTFS\r\nSupports Named Streams\r\n'),
      'PASS',
      'as documented'
    ],
    ['fsutil-volumeinfo', out(1, 'Error:  Access is denied.\r\n'), 'FAIL', 'no accepted form'],
    ['runner-version-env', text('RUNNER_VERSION=2.329.0'), 'PASS', 'set'],
    ['runner-version-env', text('RUNNER_VERSION='), 'FAIL', 'no accepted form'],
    ['list-site-miss-config-xml', out(1, ''), 'PASS', 'silent (jexusmanager)'],
    ['list-site-miss-config-xml', out(0, '<?xml version="1.0" encoding="UTF-8"?>\r\n<appcmd/>\r\n'), 'PASS', 'empty appcmd'],
    ['list-site-miss-config-xml', out(5, 'ERROR ( hresult:80070005, message:Access is denied. )'), 'FAIL', 'no accepted form'],
    ['list-apps-site', out(0, `APP "${TAG}-site/" (applicationPool:${TAG}-pool)\r\n`), 'PASS', 'documented'],
    ['list-apps-site', out(0, `APP "${TAG}-site/" (applicationPool:${TAG}-pool,enabledProtocols:http)\r\n`), 'FAIL', 'no accepted form'],
    ['list-app-case', out(0, `APP "${TAG}-site/" (applicationPool:${TAG}-pool)\r\n`), 'PASS', 'found'],
    ['list-app-case', out(1, ''), 'FAIL', 'no accepted form'],
    ['app-path-case', out(183, `ERROR ( message:Failed to add duplicate collection element "/diisprobecase". )`), 'PASS', 'duplicate'],
    ['app-path-case', out(0, `APP object "${TAG}-site/diisprobecase" added`), 'FAIL', 'added twice'],
    ['app-path-trailing-dot', text(`add-exit=0 apps=${TAG}-site/diisprobedot`), 'PASS', 'stored without the dot'],
    ['app-path-trailing-dot', text(`add-exit=0 apps=${TAG}-site/diisprobedot.`), 'PASS', 'stored with the dot'],
    ['app-path-trailing-dot', text('add-exit=13 ERROR ( message:Invalid application path )'), 'PASS', 'refused'],
    ['app-path-trailing-dot', text('add-exit=0 apps='), 'FAIL', 'no accepted form'],
    ['add-vdir-segments', out(0, `VDIR object "${TAG}-site/assets/css" added\r\n`), 'PASS', 'documented'],
    ['add-vdir-segments', out(87, 'ERROR ( message:Invalid virtual directory path )'), 'FAIL', 'no accepted form'],
    ['vdir-static-served', text('status=200 type=text/css body=diisprobe-css'), 'PASS', 'served'],
    ['vdir-static-served', text('status=404 type= body=HTTP Error 404.0 - Not Found'), 'FAIL', 'not found'],
    ['vdir-case', text('status=200 type=text/css body=diisprobe-css'), 'PASS', 'served'],
    ['vdir-case', text('status=404 type= body=HTTP Error 404.0 - Not Found'), 'FAIL', 'not found'],
    ['delete-vdir', out(0, `VDIR object "${TAG}-site/assets/css" deleted\r\n`), 'PASS', 'as the double'],
    ['delete-vdir', out(0, ''), 'PASS', 'exit 0, another text'],
    [
      'delete-vdir',
      out(1168, `ERROR ( message:Cannot find VDIR object with identifier "${TAG}-site/assets/css". )`),
      'FAIL',
      'no accepted form'
    ],
    ['delete-app-location', text('delete-exit=0 location-kept=True'), 'PASS', 'location kept'],
    ['delete-app-location', text('delete-exit=0 location-kept=False'), 'PASS', 'location removed with the app'],
    ['delete-app-location', text('delete-exit=50 location-kept=True'), 'FAIL', 'no accepted form'],
    ['pool-name-length', text('len64-exit=0 len65-exit=0 len300-exit=0'), 'PASS', '64 accepted'],
    ['pool-name-length', text('len64-exit=13 len65-exit=13 len300-exit=13'), 'FAIL', '64 refused'],
    ['appsettings-dup-key', text('without-remove=500 dup-text=True with-remove=200'), 'PASS', 'duplicate refused (remove needed)'],
    [
      'appsettings-dup-key',
      text('without-remove=200 dup-text=False with-remove=200'),
      'PASS',
      'duplicate not checked here (remove only defensive)'
    ],
    ['appsettings-dup-key', text('without-remove=500 dup-text=True with-remove=500'), 'FAIL', 'refused even with remove'],
    ['lock-delete-pending', text('code=EPERM'), 'PASS', 'taken for now'],
    ['lock-delete-pending', text('code=EACCES'), 'PASS', 'taken for now'],
    ['lock-delete-pending', text('code=EEXIST'), 'FAIL', 'EEXIST'],
    ['prune-rename-open-link', text('rwd rename=ok rm=ok; r rename=ok rm=EPERM; iis rename=ok rm=ok'), 'PASS', 'renamed while held'],
    [
      'prune-rename-open-link',
      text('rwd rename=ok rm=EBUSY; r rename=EPERM rm=skipped; iis rename=ok rm=EPERM'),
      'PASS',
      'renamed while held'
    ],
    [
      'prune-rename-open-link',
      text('rwd rename=EPERM rm=skipped; r rename=EPERM rm=skipped; iis rename=ok rm=ok'),
      'FAIL',
      'refused with delete sharing'
    ],
    [
      'prune-rename-open-link',
      text('rwd rename=ok rm=ok; r rename=EBUSY rm=skipped; iis rename=EBUSY rm=skipped'),
      'FAIL',
      'refused while IIS serves the file'
    ],
    ['prune-rename-open-link', text('rwd rename=ok rm=ok; r rename=ok rm=ok'), 'FAIL', 'no accepted form'],
    ['backup-folder', text('apphost=True removed=True listed-after=False'), 'PASS', 'the folder is the backup'],
    ['backup-folder', text('apphost=False removed=False listed-after=True'), 'PASS', 'kept elsewhere (appcmd delete backup is used)'],
    ['backup-folder', text('apphost=True removed=True listed-after=True'), 'FAIL', 'still listed once its folder is gone'],
    ['backup-folder', text('apphost=True removed=False listed-after=True'), 'FAIL', 'no accepted form'],
    [
      'recycle-stopped-pool',
      out(1062, 'ERROR ( hresult:80070426, message:Command execution failed.\nThe service has not been started.\n )'),
      'PASS',
      'as the double'
    ],
    ['recycle-stopped-pool', out(1062, 'ERROR ( message:Command execution failed. )'), 'FAIL', 'no accepted form'],
    [
      'net-start-started',
      text('exit=2 said=The requested service has already been started. More help is available by typing NET HELPMSG 2182.'),
      'PASS',
      'as the double'
    ],
    [
      'net-start-started',
      text('exit=0 said=The World Wide Web Publishing Service service was started successfully.'),
      'FAIL',
      'started again'
    ],
    [
      'net-stop-stopped',
      text('exit=2 said=The Fax service is not started. More help is available by typing NET HELPMSG 3521.'),
      'PASS',
      'as the double'
    ],
    ['net-stop-stopped', text('exit=2 said=System error 5 has occurred. Access is denied.'), 'FAIL', 'no accepted form'],
    [
      'net-missing-service',
      text('exit=2 said=The service name is invalid. More help is available by typing NET HELPMSG 2185.'),
      'PASS',
      'as the double'
    ],
    [
      'net-missing-service',
      text('exit=2 said=The diisprobe-0a1b2c3d-nosuch service is not started. More help is available by typing NET HELPMSG 3521.'),
      'FAIL',
      'read as stopped'
    ],
    ['recycle-statuses', text('recycle-exit=0 statuses=200'), 'PASS', 'starting answers, then 200'],
    ['recycle-statuses', text('recycle-exit=0 statuses=200,503,200'), 'PASS', 'starting answers, then 200'],
    ['recycle-statuses', text('recycle-exit=0 statuses=200,500,200'), 'FAIL', 'a 500 while starting'],
    ['recycle-statuses', text('recycle-exit=0 statuses=200,503'), 'FAIL', 'no accepted form'],
    ['lock-recreated-generation', text('ino-differs=true mtime-differs=false'), 'PASS', 'differs'],
    ['lock-recreated-generation', text('ino-differs=false mtime-differs=false'), 'FAIL', 'same identity'],
    // whoami /priv lists the privileges the token holds, enabled or not; CreateSymbolicLink enables it itself.
    [
      'symlink-privilege',
      out(
        0,
        '\r\nPRIVILEGES INFORMATION\r\n----------------------\r\n\r\nPrivilege Name                Description                State\r\n' +
          '============================= ========================== ========\r\n' +
          'SeCreateSymbolicLinkPrivilege Create symbolic links      Disabled\r\n'
      ),
      'PASS',
      'held'
    ],
    [
      'symlink-privilege',
      out(0, 'PRIVILEGES INFORMATION\r\nSeChangeNotifyPrivilege Bypass traverse checking Enabled\r\n'),
      'FAIL',
      'no accepted form'
    ],
    ['symlink-privilege', text('SeCreateSymbolicLinkPrivilege Create symbolic links Disabled'), 'FAIL', 'no accepted form'],
    ['junction-served', text('status=200 type=text/plain body=diisprobe-media'), 'PASS', 'served'],
    ['junction-served', text('status=500 type= body=<!DOCTYPE html>'), 'FAIL', 'no accepted form'],
    ['media-nosniff', text('nosniff'), 'PASS', 'nosniff'],
    ['media-nosniff', text(''), 'FAIL', 'no accepted form'],
    ['media-denied-extension', text('py status=404 type= body=x; config status=404 type= body=y'), 'PASS', 'refused'],
    ['media-denied-extension', text('py status=200 type=text/plain body=print(1); config status=404 type= body=y'), 'FAIL', 'served'],
    ['media-lock-below', text('status=500 config-error=True'), 'PASS', 'locked'],
    // cmd.exe behind the uploaded handler answers 500 too, without naming the config error.
    ['media-lock-below', text('status=500 config-error=False'), 'FAIL', 'the handler ran'],
    ['media-lock-below', text('status=200 config-error=False'), 'FAIL', 'handler accepted'],
    ['junction-delete', text('link-gone=True target-file=True'), 'PASS', 'target kept'],
    ['junction-delete', text('link-gone=True target-file=False'), 'FAIL', 'no accepted form'],
    [
      'pre-switch-site',
      text('add-exit=0 root-pool=True state=Started get=200 delete-exit=0 site-gone=True location-kept=True'),
      'PASS',
      'started, served, deleted, location kept'
    ],
    [
      'pre-switch-site',
      text('add-exit=0 root-pool=True state=Stopped get=503 delete-exit=0 site-gone=True location-kept=True'),
      'FAIL',
      'not started on creation'
    ],
    [
      'pre-switch-site',
      text('add-exit=50 ERROR ( message:Unknown attribute "applicationDefaults.applicationPool". )'),
      'FAIL',
      'the nested pool option is refused'
    ],
    ['commit-locked', { skipped: 'needs -Disruptive' }, 'UNSETTLED', 'needs -Disruptive'],
    ['fastcgi-unregistered', undefined, 'UNSETTLED', 'not run']
  ] as const)('%s: %j → %s (%s)', (id, obs, verdict, form) => {
    expect(verdictOf(id, obs)).toEqual({ verdict, form })
  })
})

describe('the doubles answer as the expectations hold a real server to', () => {
  let box: IisSandbox
  const site = `${TAG}-site`
  const pool = `${TAG}-pool`
  const pool2 = `${TAG}-pool2`
  const fcgi = "[fullPath='C:\\Windows\\system32\\cmd.exe',arguments='/c rem diisprobe-0a1b2c3d']"
  const appcmd = (...argv: string[]) => runDouble(box.appcmdPath, argv, box.env)
  const seen = async (...argv: string[]): Promise<ProbeObservation> => {
    const r = await appcmd(...argv)
    return out(r.exitCode, r.stdout, r.stderr)
  }
  const holds = (id: string, obs: ProbeObservation) => {
    const check = checks[id]
    if (!check) throw new Error(`no probe check ${id}`)
    expect(probeVerdict(check, obs, true), `${id}: ${JSON.stringify(obs)}`).toMatchObject({ verdict: 'PASS' })
  }
  const readBack = async (name: string) => {
    const xml = (await appcmd('list', 'config', '-section:system.webServer/fastCgi', '/xml')).stdout
    const vars = Array.from(new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagName('environmentVariable'))
    const found = vars.find(v => v.getAttribute('name') === name)
    return found ? (found.getAttribute('value') ?? '').replace(/\t/g, '\\t') : '(absent)'
  }
  const setValue = async (name: string, value: string) => {
    const r = await appcmd(
      'set',
      'config',
      '-section:system.webServer/fastCgi',
      `/+${fcgi}.environmentVariables.[name='${name}',value='${value}']`,
      '/commit:apphost'
    )
    return text(`set-exit=${r.exitCode} ${r.exitCode === 0 ? `value=${await readBack(name)}` : r.stdout.trim()}`)
  }

  beforeAll(async () => {
    box = createIisSandbox()
    mkdirSync(join(box.dir, 'probe', 'sub'), { recursive: true })
    for (const argv of [
      ['add', 'apppool', `/name:${pool}`],
      ['add', 'site', `/name:${site}`, '/bindings:http/*:8080:', `/physicalPath:${join(box.dir, 'probe')}`],
      ['set', 'app', `${site}/`, `/applicationPool:${pool}`],
      ['set', 'config', '-section:system.webServer/fastCgi', `/+${fcgi}`, '/commit:apphost']
    ]) {
      expect((await appcmd(...argv)).exitCode, argv.join(' ')).toBe(0)
    }
  })
  afterAll(() => box.cleanup())

  it('in listings: misses, case, /xml and /config /xml', async () => {
    holds('list-site-miss', await seen('list', 'site', `${TAG}-nosuch`))
    holds('list-apppool-miss', await seen('list', 'apppool', `${TAG}-nosuch`, '/config', '/xml'))
    holds('list-vdir-miss', await seen('list', 'vdir', `${TAG}-nosuch/`))
    holds('list-apps-site-miss', await seen('list', 'apps', `/site.name:${TAG}-nosuch`))
    holds('list-case', await seen('LIST', 'APPPOOL', pool.toUpperCase()))
    holds('list-xml-shape', await seen('list', 'apppool', pool, '/xml'))
    holds('list-apppool-config-xml', await seen('list', 'apppool', pool, '/config', '/xml'))
    holds('list-config-xml-shape', await seen('list', 'config', `${site}/`, '-section:system.webServer/defaultDocument', '/xml'))
    holds('list-site-miss-config-xml', await seen('list', 'site', `${TAG}-nosuch`, '/config', '/xml'))
    holds('list-apps-site', await seen('list', 'apps', `/site.name:${site}`))
    holds('list-app-case', await seen('list', 'app', `${site}/`.toUpperCase()))
  })

  it('in errors: duplicates, missing elements, malformed input, empty values', async () => {
    holds('dup-apppool', await seen('add', 'apppool', `/name:${pool}`))
    holds('dup-fastcgi', await seen('set', 'config', '-section:system.webServer/fastCgi', `/+${fcgi}`, '/commit:apphost'))
    holds(
      'remove-missing-element',
      await seen(
        'set',
        'config',
        '-section:system.webServer/fastCgi',
        "/-[fullPath='C:\\diisprobe-nosuch.exe',arguments='x']",
        '/commit:apphost'
      )
    )
    holds('malformed-indexer', await seen('set', 'config', '-section:system.webServer/fastCgi', '/+[fullPath', '/commit:apphost'))
    holds('unknown-attribute', await seen('set', 'apppool', pool, '/diisprobeNoSuchAttribute:1'))
    holds(
      'env-empty-value',
      await seen(
        'set',
        'config',
        '-section:system.webServer/fastCgi',
        `/+${fcgi}.environmentVariables.[name='DIISPROBE_E',value='']`,
        '/commit:apphost'
      )
    )
  })

  it('in stored values: %u, tab, " and a quote inside an indexer', async () => {
    holds('value-percent-u', await setValue('DIISPROBE_P', 'x%u0041y'))
    holds('value-tab', await setValue('DIISPROBE_T', 'x\ty'))
    holds('value-quote', await setValue('DIISPROBE_D', 'x"y'))
    holds('indexer-quote', await setValue('DIISPROBE_Q', "a''b"))
  })

  it('in pools, anonymous user, unlock and the handlers lock', async () => {
    const add = await appcmd('add', 'apppool', `/name:${pool2}`, '/managedRuntimeVersion:')
    const pool2Xml = (await appcmd('list', 'apppool', pool2, '/config', '/xml')).stdout
    const runtime = /<add\b[^>]*\smanagedRuntimeVersion="([^"]*)"/.exec(pool2Xml)?.[1]
    holds('add-apppool-empty-runtime', text(`add-exit=${add.exitCode} runtime=${runtime === undefined ? '(absent)' : `"${runtime}"`}`))

    const anon = '-section:system.webServer/security/authentication/anonymousAuthentication'
    const set = await appcmd('set', 'config', site, anon, '/userName:', '/commit:apphost')
    const user = /\suserName="([^"]*)"/.exec((await appcmd('list', 'config', site, anon, '/xml')).stdout)?.[1]
    holds('anon-empty-username', text(`set-exit=${set.exitCode} userName=${user === undefined ? '(absent)' : `"${user}"`}`))
    holds('attr-remove', await seen('set', 'config', site, anon, '--password', '/commit:apphost'))

    await appcmd('unlock', 'config', `${site}/`, '-section:system.webServer/handlers')
    holds('unlock-message', await seen('unlock', 'config', `${site}/`, '-section:system.webServer/handlers'))
    const seed = readFileSync(join(import.meta.dirname, 'support', 'applicationHost.seed.config'), 'utf8')
    holds('handlers-locked', text(/<section name="handlers"[^>]*>/.exec(seed)?.[0] ?? ''))
  })

  it('in pool accounts and Windows Authentication', async () => {
    const secret = `P${TAG}`
    const pool3 = `${TAG}-pool3`
    const add = await appcmd(
      'add',
      'apppool',
      `/name:${pool3}`,
      '/autoStart:false',
      '/processModel.identityType:SpecificUser',
      '/processModel.userName:.\\diisprobe',
      `/processModel.password:${secret}`
    )
    const file = readFileSync(box.configPath, 'utf8')
    const stored = new RegExp(`name="${pool3}"[\\s\\S]*?password="([^"]*)"`).exec(file)?.[1] ?? ''
    const read = (await appcmd('list', 'apppool', pool3, '/config', '/xml')).stdout
    const shown = read.includes(secret) ? 'clear' : read.includes('[enc:') ? 'enc' : 'absent'
    holds(
      'pool-password-encrypted',
      text(`add-exit=${add.exitCode} stored=${stored} clear-in-file=${file.includes(secret) ? 'yes' : 'no'} read=${shown}`)
    )
    const winauth = '-section:system.webServer/security/authentication/windowsAuthentication'
    holds(
      'windows-auth-location',
      await seen('set', 'config', site, winauth, '/enabled:true', '/useAppPoolCredentials:true', '/commit:apphost')
    )
    const runtime = '-section:system.webServer/serverRuntime'
    holds(
      'server-runtime-override',
      await seen('set', 'config', site, runtime, '/authenticatedUserOverride:UseWorkerProcessUser', '/commit:apphost')
    )
    const seed = readFileSync(join(import.meta.dirname, 'support', 'applicationHost.seed.config'), 'utf8')
    const mode = (name: string) => new RegExp(`<section name="${name}"[^>]*overrideModeDefault="([^"]*)"`).exec(seed)?.[1] ?? '(absent)'
    const modes = ['anonymousAuthentication', 'windowsAuthentication', 'serverRuntime'].map(n => `${n}=${mode(n)}`).join(' ')
    holds('auth-sections-locked', text(modes))
  })

  it('in vdirs and apps: several segments, delete, paths differing in case', async () => {
    mkdirSync(join(box.dir, 'probe', 'css'))
    holds(
      'add-vdir-segments',
      await seen('add', 'vdir', `/app.name:${site}/`, '/path:/assets/css', `/physicalPath:${join(box.dir, 'probe', 'css')}`)
    )
    holds('delete-vdir', await seen('delete', 'vdir', `${site}/assets/css`))
    await appcmd('add', 'app', `/site.name:${site}`, '/path:/DiisProbeCase', `/physicalPath:${join(box.dir, 'probe')}`)
    holds(
      'app-path-case',
      await seen('add', 'app', `/site.name:${site}`, '/path:/diisprobecase', `/physicalPath:${join(box.dir, 'probe')}`)
    )
  })

  it('in runtime state: stop, start, recycle, delete', async () => {
    holds('stop-message', await seen('stop', 'site', site))
    holds('stop-stopped-site', await seen('stop', 'site', site))
    await appcmd('start', 'site', site)
    holds('start-started-site', await seen('start', 'site', site))
    await appcmd('stop', 'apppool', pool2)
    holds('recycle-stopped-pool', await seen('recycle', 'apppool', pool2))
    holds('delete-message', await seen('delete', 'apppool', pool2))
  })

  it('in icacls answers', async () => {
    const folder = join(box.dir, 'probe')
    const sub = join(folder, 'sub')
    const icacls = async (...argv: string[]) => {
      const r = await runDouble(box.icaclsPath, argv, box.env)
      return out(r.exitCode, r.stdout, r.stderr)
    }
    holds('icacls-missing-path', await icacls(join(folder, 'nosuch')))
    holds('icacls-grant-output', await icacls(sub, '/grant', '*S-1-5-32-545:(OI)(CI)RX'))
    holds('icacls-bad-perm', await icacls(sub, '/grant', '*S-1-5-32-545:(ZZ)'))
    // The double records principals as given where Windows prints the SID's name: this listing grants by name.
    const named = join(folder, 'named')
    mkdirSync(named)
    await icacls(named, '/grant', 'BUILTIN\\Users:(OI)(CI)RX')
    holds('icacls-list-format', await icacls(named))
  })
})
