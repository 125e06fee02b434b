import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { getInputs, type DeployConfig } from '../src/config.js'
import { doctorMode, runDoctor, type DoctorDeps } from '../src/doctor/doctor.js'
import type { Finding } from '../src/doctor/findings.js'
import { Redactor, type Log } from '../src/log.js'
import type { ProcessResult, ProcessRunner } from '../src/process.js'
import { run } from '../src/main.js'
import { emptyReport, renderSummary } from '../src/report.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { createIisSandbox, sandboxRunner } from './support/iis-sandbox.js'
import { tempDir } from './support/temp-dir.js'

/*
 * Canned answers of the Windows programs doctor asks, each in the form docs/windows-facts.md cites: sc.exe query
 * (dr-sc-query), appcmd list config globalModules (dr-global-modules), appcmd list site (ac-list-text, ac-list-miss-id),
 * icacls <dir> (ic-list, dr-pool-sid), fsutil fsinfo volumeinfo (dr-fsutil-volumeinfo), shibd -check (sp-check-config).
 */
const PYTHON_DIR = 'C:\\Program Files\\Python312'
const SC_RUNNING = (name: string) =>
  `\r\nSERVICE_NAME: ${name}\r\n        TYPE               : 20  WIN32_SHARE_PROCESS\r\n        STATE              : 4  RUNNING\r\n                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)\r\n        WIN32_EXIT_CODE    : 0  (0x0)\r\n`
const SC_STOPPED = (name: string) => SC_RUNNING(name).replace('4  RUNNING', '1  STOPPED')
const SC_MISSING =
  '[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\nThe specified service does not exist as an installed service.\r\n'
const GLOBAL_MODULES = (extra: string) =>
  `<system.webServer>\r\n  <globalModules>\r\n    <add name="StaticFileModule" image="%windir%\\System32\\inetsrv\\static.dll" />\r\n${extra}  </globalModules>\r\n</system.webServer>\r\n`
const FASTCGI = '    <add name="FastCgiModule" image="%windir%\\System32\\inetsrv\\iisfcgi.dll" />\r\n'
const HTTP_PLATFORM = '    <add name="httpPlatformHandler" image="%SystemRoot%\\system32\\inetsrv\\httpPlatformHandler.dll" />\r\n'
const SITE = 'SITE "Default Web Site" (id:1,bindings:http/*:80:,net.tcp/808:*,state:Started)\r\n'
const ACL = (who: string) =>
  `${PYTHON_DIR} ${who}:(OI)(CI)(RX)\r\n                              NT AUTHORITY\\SYSTEM:(I)(OI)(CI)(F)\r\n                              BUILTIN\\Administrators:(I)(OI)(CI)(F)\r\n\r\nSuccessfully processed 1 files; Failed processing 0 files\r\n`
const VOLUME = (fsName: string) =>
  `Volume Name : \r\nVolume Serial Number : 0xd0b634d9\r\nMax Component Length : 255\r\nFile System Name : ${fsName}\r\nIs ReadWrite\r\nSupports Named Streams\r\n`
const PY = (bits: number, prefix = PYTHON_DIR) =>
  `${JSON.stringify({ version: '3.12.7', bits, executable: `${prefix}\\python.exe`, basePrefix: prefix })}\r\n`

type Canned = (file: string, args: readonly string[]) => Partial<ProcessResult> | 'missing'

interface Call {
  file: string
  args: string[]
}

/** Answers from `canned` and records every call; a program `canned` calls missing throws as @actions/exec does. */
function cannedRunner(canned: Canned): ProcessRunner & { calls: Call[] } {
  const calls: Call[] = []
  return {
    calls,
    async run(file, args) {
      calls.push({ file, args: [...args] })
      const answer = canned(file, args)
      if (answer === 'missing') throw new Error(`Unable to locate executable file: ${file}`)
      return { exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...answer }
    }
  }
}

interface Server {
  w3svc?: 'running' | 'stopped' | 'missing'
  modules?: string
  site?: 'ok' | 'missing'
  pythonBits?: number
  pythonPrefix?: string
  acl?: string
  fsName?: string
  appcmd?: 'missing'
  shibCheckExit?: number
  shibService?: 'running' | 'missing'
}

const base = (file: string): string => path.win32.basename(file).toLowerCase()

function server(s: Server = {}): Canned {
  return (file, args) => {
    const name = base(file)
    if (name === 'sc.exe') {
      const svc = args[1] === 'W3SVC' ? (s.w3svc ?? 'running') : (s.shibService ?? 'running')
      if (svc === 'missing') return { exitCode: 1060, stdout: SC_MISSING }
      return { stdout: svc === 'running' ? SC_RUNNING(args[1] ?? '') : SC_STOPPED(args[1] ?? '') }
    }
    if (name === 'appcmd.exe' || name === 'appcmd') {
      if (s.appcmd === 'missing') return 'missing'
      if (args[1] === 'config') return { stdout: GLOBAL_MODULES(s.modules ?? FASTCGI) }
      return s.site === 'missing' ? { exitCode: 1, stdout: '' } : { stdout: SITE }
    }
    if (name === 'icacls.exe' || name === 'icacls') return { stdout: ACL(s.acl ?? 'IIS AppPool\\DefaultWebSite-app') }
    if (name === 'fsutil') return { stdout: VOLUME(s.fsName ?? 'NTFS') }
    if (name === 'python.exe') return { stdout: PY(s.pythonBits ?? 64, s.pythonPrefix) }
    if (name === 'shibd.exe')
      return s.shibCheckExit
        ? { exitCode: s.shibCheckExit, stderr: 'FATAL error loading configuration' }
        : { stdout: 'overall configuration is loadable, check console for non-fatal problems\r\n' }
    throw new Error(`no canned answer for ${file} ${args.join(' ')}`)
  }
}

function config(over: Record<string, string> = {}): DeployConfig {
  const values: Record<string, string> = {
    mode: 'plan',
    'app-dir': EXAMPLE_APP,
    'deploy-root': 'C:\\inetpub\\apps\\hello',
    'app-path': '/app',
    python: `${PYTHON_DIR}\\python.exe`,
    appcmd: 'C:\\Windows\\System32\\inetsrv\\appcmd.exe',
    icacls: 'C:\\Windows\\System32\\icacls.exe',
    'shibboleth-check': 'C:\\opt\\shibboleth-sp\\sbin64\\shibd.exe -check -config {config}',
    ...over
  }
  // Plan mode reads a Windows deploy-root on Linux; doctor is the mode under test.
  return { ...getInputs(name => values[name] ?? '', {}, EXAMPLE_APP), mode: 'doctor' }
}

const GB = 1024 ** 3

function deps(runner: ProcessRunner, env: NodeJS.ProcessEnv = { RUNNER_VERSION: '2.329.0' }, free = 40 * GB) {
  const failed: string[] = []
  const redactor = new Redactor()
  const log: Log = {
    info: () => {},
    debug: () => {},
    warning: () => {},
    error: () => {},
    group: (_name, fn) => fn(),
    secret: v => redactor.add(v),
    redact: t => redactor.redact(t)
  }
  const d: DoctorDeps = { runner, env, log, setFailed: m => failed.push(m), freeBytes: () => free }
  return { d, failed }
}

/** What a call may be: each program asked only to read (appcmd list, sc query, fsutil fsinfo, icacls of one path...). */
function readOnly(call: Call): boolean {
  const name = base(call.file)
  if (name.startsWith('appcmd')) return call.args[0] === 'list'
  if (name === 'sc.exe') return call.args[0] === 'query' && call.args.length === 2
  if (name === 'fsutil') return call.args[0] === 'fsinfo'
  if (name.startsWith('icacls')) return call.args.length === 1
  if (name === 'python.exe') return call.args[0] === '-I' && call.args[1] === '-c' && !/open\(|remove|rmtree|write/.test(call.args[2] ?? '')
  if (name === 'shibd.exe') return call.args.includes('-check')
  return false
}

const byCheck = (findings: Finding[], check: string | RegExp) =>
  findings.find(f => (typeof check === 'string' ? f.check === check : check.test(f.check)))

describe('mode: doctor', () => {
  it('finds a ready FastCGI server ok in every check, with read-only calls only', async () => {
    const runner = cannedRunner(server())
    const { d, failed } = deps(runner)
    const report = emptyReport()
    await doctorMode(d, config(), report)
    const findings = report.doctor ?? []
    expect(findings.filter(f => f.status !== 'ok')).toEqual([])
    expect(findings.map(f => f.check)).toEqual([
      'runner version (node24)',
      'IIS service (W3SVC)',
      'appcmd',
      'IIS feature for fastcgi',
      'site "Default Web Site"',
      'bindings of "Default Web Site"',
      'Python interpreter',
      'icacls',
      'pool reads Python (IIS AppPool\\DefaultWebSite-app)',
      'deploy-root file system (C:\\inetpub\\apps\\hello)',
      'free space (C:\\inetpub\\apps\\hello)'
    ])
    expect(byCheck(findings, /^bindings/)?.detail).toBe('http/*:80:')
    expect(failed).toEqual([])
    expect(runner.calls.length).toBeGreaterThanOrEqual(6)
    expect(runner.calls.filter(c => !readOnly(c))).toEqual([])
  })

  it('names a fix command for every fail and warn finding of a broken server, and fails the step', async () => {
    const runner = cannedRunner(
      server({
        w3svc: 'stopped',
        modules: '',
        site: 'missing',
        pythonBits: 32,
        acl: 'BUILTIN\\Administrators',
        fsName: 'FAT32',
        shibCheckExit: 254,
        shibService: 'missing'
      })
    )
    const { d, failed } = deps(runner, { RUNNER_VERSION: '2.326.0' }, 0.3 * GB)
    const report = emptyReport()
    await doctorMode(d, config({ shibboleth: 'true', 'verify-url': 'https://app.example.org/app/' }), report)
    const findings = report.doctor ?? []
    const fails = findings.filter(f => f.status === 'fail')
    expect(fails.map(f => f.check)).toEqual([
      'runner version (node24)',
      'IIS service (W3SVC)',
      'IIS feature for fastcgi',
      'site "Default Web Site"',
      'deploy-root file system (C:\\inetpub\\apps\\hello)',
      'free space (C:\\inetpub\\apps\\hello)',
      'Shibboleth config check',
      'Shibboleth service (shibd_Default)'
    ])
    for (const f of findings.filter(f => f.status !== 'ok')) expect(f.fix, f.check).toMatch(/\S/)
    expect(byCheck(fails, 'IIS service (W3SVC)')?.fix).toBe('net start W3SVC')
    expect(byCheck(fails, 'IIS feature for fastcgi')?.fix).toBe('Install-WindowsFeature Web-CGI')
    expect(byCheck(fails, /^site/)?.fix).toBe(
      'appcmd add site /name:"Default Web Site" /bindings:http/*:80: /physicalPath:C:\\inetpub\\wwwroot'
    )
    expect(byCheck(findings, /^pool reads Python/)).toMatchObject({
      status: 'warn',
      fix: `icacls "${PYTHON_DIR}" /grant "IIS AppPool\\DefaultWebSite-app:(OI)(CI)(RX)"`
    })
    expect(byCheck(findings, 'Python interpreter')?.status).toBe('warn')
    expect(failed).toEqual([expect.stringMatching(/^doctor: 8 check\(s\) failed: runner version/)])
    expect(runner.calls.filter(c => !readOnly(c))).toEqual([])

    const summary = renderSummary(report)
    expect(summary).toMatch(/^## ❌ doctor: 8 problem/)
    expect(summary).toContain(
      '| IIS feature for fastcgi | ❌ fail | the CGI feature (FastCgiModule) is not installed: no FastCgiModule in globalModules | `Install-WindowsFeature Web-CGI` |'
    )
  })

  it('reports appcmd and icacls that cannot be run, and Python under a user profile', async () => {
    const runner = cannedRunner((file, args) =>
      base(file).startsWith('icacls')
        ? 'missing'
        : server({ appcmd: 'missing', pythonPrefix: 'C:\\Users\\runner\\AppData\\Local\\Programs\\Python\\Python312' })(file, args)
    )
    const { d } = deps(runner)
    const findings = await runDoctor(d, config())
    expect(byCheck(findings, 'appcmd')).toMatchObject({ status: 'fail', fix: 'Install-WindowsFeature Web-Server -IncludeManagementTools' })
    expect(byCheck(findings, 'Python interpreter')?.status).toBe('ok')
    expect(byCheck(findings, 'icacls')).toMatchObject({ status: 'fail', fix: 'set the icacls input to C:\\Windows\\System32\\icacls.exe' })
  })

  it('does not judge the pool read access when the interpreter does not answer', async () => {
    const runner = cannedRunner((file, args) => (base(file) === 'python.exe' ? 'missing' : server()(file, args)))
    const findings = await runDoctor(deps(runner).d, config())
    expect(byCheck(findings, 'Python interpreter')).toMatchObject({ status: 'fail', fix: expect.stringContaining('python input') })
    expect(byCheck(findings, /^pool reads Python/)).toMatchObject({ status: 'warn', detail: 'not checked: the interpreter did not answer' })
  })

  it('warns, never fails, when the runner version is unknown or the pool reads Python only through a group', async () => {
    const { d, failed } = deps(cannedRunner(server({ acl: 'BUILTIN\\Users' })), {})
    const report = emptyReport()
    await doctorMode(d, config(), report)
    const findings = report.doctor ?? []
    expect(findings.filter(f => f.status === 'fail')).toEqual([])
    expect(failed).toEqual([])
    expect(byCheck(findings, 'runner version (node24)')).toMatchObject({ status: 'warn', fix: expect.stringContaining('2.327.1') })
    expect(byCheck(findings, /^pool reads Python/)?.status).toBe('ok')
  })

  it('looks for httpPlatformHandler, not FastCgiModule, with hosting: httpplatform', async () => {
    const { d } = deps(cannedRunner(server({ modules: FASTCGI })))
    const findings = await runDoctor(d, config({ hosting: 'httpplatform' }))
    expect(byCheck(findings, 'IIS feature for httpplatform')).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/^msiexec \/i httpPlatformHandler_amd64\.msi/)
    })
    const { d: d2 } = deps(cannedRunner(server({ modules: HTTP_PLATFORM })))
    expect(byCheck(await runDoctor(d2, config({ hosting: 'httpplatform' })), 'IIS feature for httpplatform')?.status).toBe('ok')
  })

  it('with warm-up on, fails without Application Initialization in globalModules and names Install-WindowsFeature Web-AppInit', async () => {
    const { d } = deps(cannedRunner(server({ modules: FASTCGI })))
    expect(byCheck(await runDoctor(d, config({ 'warm-up': 'true' })), 'IIS feature for warm-up')).toMatchObject({
      status: 'fail',
      fix: 'Install-WindowsFeature Web-AppInit'
    })
    const appInit = '    <add name="ApplicationInitializationModule" image="%windir%\\System32\\inetsrv\\warmup.dll" />\r\n'
    const { d: d2 } = deps(cannedRunner(server({ modules: FASTCGI + appInit })))
    expect(byCheck(await runDoctor(d2, config({ 'warm-up': 'true' })), 'IIS feature for warm-up')?.status).toBe('ok')
    const { d: d3 } = deps(cannedRunner(server({ modules: FASTCGI })))
    expect(byCheck(await runDoctor(d3, config()), 'IIS feature for warm-up')).toBeUndefined()
  })

  it('runs from the mode input: the table is the job summary, the step fails on a fail row, deploy-root stays absent', async () => {
    const root = path.join(tempDir('doctor'), 'apps', 'hello')
    const runner = cannedRunner(server({ modules: '' }))
    const values: Record<string, string> = {
      mode: 'doctor',
      'app-dir': EXAMPLE_APP,
      'deploy-root': root,
      'app-path': '/app',
      python: `${PYTHON_DIR}\\python.exe`,
      appcmd: 'C:\\Windows\\System32\\inetsrv\\appcmd.exe',
      icacls: 'C:\\Windows\\System32\\icacls.exe'
    }
    const { d, failed } = deps(runner)
    let summary = ''
    await run({
      inputs: name => values[name] ?? '',
      env: { RUNNER_VERSION: '2.329.0' },
      cwd: EXAMPLE_APP,
      runner,
      log: d.log,
      setOutput: () => {},
      summary: { addRaw: text => (summary += text), write: async () => undefined },
      setFailed: m => failed.push(m)
    })
    expect(summary).toMatch(/^## ❌ doctor: 1 problem/)
    expect(summary).toContain('| IIS feature for fastcgi | ❌ fail |')
    expect(failed).toEqual([expect.stringMatching(/^doctor: 1 check\(s\) failed: IIS feature for fastcgi/)])
    expect(fs.existsSync(root)).toBe(false)
    expect(runner.calls.filter(c => !readOnly(c))).toEqual([])
  })

  it('against the appcmd and icacls doubles: they record no mutating call and no ACL change', async () => {
    const sandbox = createIisSandbox()
    try {
      const doubles = sandboxRunner(sandbox)
      // The doubles answer appcmd and icacls; the programs they do not play answer from the canned server.
      const runner = cannedRunner(() => ({}))
      const canned = server()
      runner.run = async (file, args) => {
        runner.calls.push({ file, args: [...args] })
        return file === sandbox.appcmdPath || file === sandbox.icaclsPath
          ? doubles.run(file, args)
          : { exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...(canned(file, args) as Partial<ProcessResult>) }
      }
      const { d } = deps(runner)
      const findings = await runDoctor(d, { ...config(), appcmd: sandbox.appcmdPath, icacls: sandbox.icaclsPath })
      // The double does not play globalModules; it does play the site listing.
      expect(byCheck(findings, 'site "Default Web Site"')).toMatchObject({ status: 'ok', detail: 'id 1, started' })
      expect(sandbox.calls().length).toBeGreaterThanOrEqual(2)
      expect(sandbox.mutatingCalls()).toEqual([])
      expect(sandbox.aclGrants()).toEqual([])
    } finally {
      sandbox.cleanup()
    }
  })
})
