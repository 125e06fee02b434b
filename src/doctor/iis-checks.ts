import type { DeployConfig } from '../config.js'
import { hasAppInitModule, INSTALL_APP_INIT } from '../iis/app-init.js'
import { isListMiss } from '../iis/appcmd.js'
import type { ProcessRunner } from '../process.js'
import type { Finding } from './findings.js'
import { ask, serviceState } from './query.js'

const INSTALL_IIS = 'Install-WindowsFeature Web-Server -IncludeManagementTools'

/** The module the chosen hosting needs in system.webServer/globalModules, and what installs it. */
const HOSTING_MODULE: Record<DeployConfig['hosting'], { name: string; feature: string; fix: string }> = {
  fastcgi: { name: 'FastCgiModule', feature: 'the CGI feature (FastCgiModule)', fix: 'Install-WindowsFeature Web-CGI' },
  httpplatform: {
    name: 'httpPlatformHandler',
    feature: 'HttpPlatformHandler',
    fix: 'msiexec /i httpPlatformHandler_amd64.msi /qn (HttpPlatformHandler v1.2, from https://www.iis.net/downloads/microsoft/httpplatformhandler)'
  }
}

/** W3SVC, the IIS web service: installed with IIS, running to serve the app. */
export async function iisServiceFinding(runner: ProcessRunner): Promise<Finding> {
  const check = 'IIS service (W3SVC)'
  const s = await serviceState(runner, 'W3SVC')
  if (s.kind === 'missing') return { check, status: 'fail', detail: 'W3SVC is not installed: IIS is missing', fix: INSTALL_IIS }
  if (s.kind === 'unknown')
    return { check, status: 'warn', detail: `sc.exe query W3SVC gave no state: ${s.output}`, fix: 'sc.exe query W3SVC' }
  if (s.state === 'RUNNING') return { check, status: 'ok', detail: 'W3SVC is running' }
  return { check, status: 'fail', detail: `W3SVC is ${s.state}`, fix: 'net start W3SVC' }
}

/** appcmd answers, and globalModules holds the module the hosting needs (appcmd's own reading of the config). */
export async function hostingModuleFindings(runner: ProcessRunner, config: DeployConfig): Promise<Finding[]> {
  const answer = await ask(runner, config.appcmd, ['list', 'config', '-section:system.webServer/globalModules'])
  const need = HOSTING_MODULE[config.hosting]
  if ('missing' in answer) {
    return [
      { check: 'appcmd', status: 'fail', detail: `${config.appcmd} cannot be run: ${answer.missing}`, fix: INSTALL_IIS },
      { check: `IIS feature for ${config.hosting}`, status: 'fail', detail: `not checked without appcmd`, fix: need.fix }
    ]
  }
  if (answer.exitCode !== 0) {
    const why = `${answer.stdout}${answer.stderr}`.trim()
    return [
      {
        check: 'appcmd',
        status: 'fail',
        detail: `appcmd list config failed (exit ${answer.exitCode}): ${why}`,
        fix: 'run the runner as an administrator'
      }
    ]
  }
  const appcmd: Finding = { check: 'appcmd', status: 'ok', detail: `${config.appcmd} answers` }
  // Text or /xml alike, the entry is <add name="..." image="..." />; names compare without regard to case.
  const present = new RegExp(`\\bname\\s*=\\s*"${need.name}"`, 'i').test(answer.stdout)
  const feature: Finding = present
    ? { check: `IIS feature for ${config.hosting}`, status: 'ok', detail: `${need.name} is in globalModules` }
    : {
        check: `IIS feature for ${config.hosting}`,
        status: 'fail',
        detail: `${need.feature} is not installed: no ${need.name} in globalModules`,
        fix: need.fix
      }
  return config.warmUp ? [appcmd, feature, appInitFinding(answer.stdout)] : [appcmd, feature]
}

/** warm-up: true needs Application Initialization's module in globalModules (src/iis/app-init.ts). */
function appInitFinding(globalModules: string): Finding {
  const check = 'IIS feature for warm-up'
  return hasAppInitModule(globalModules)
    ? { check, status: 'ok', detail: 'Application Initialization is in globalModules' }
    : {
        check,
        status: 'fail',
        detail: 'Application Initialization is not installed: no ApplicationInitializationModule in globalModules',
        fix: INSTALL_APP_INIT
      }
}

/** `SITE "S" (id:1,bindings:http/*:80:,state:Started)` (docs/windows-facts.md, ac-list-text). */
const SITE_LINE = /^SITE "([^"]*)" \(id:(\d+),bindings:(.*),state:(\w+)\)\s*$/m

export async function siteFindings(runner: ProcessRunner, config: DeployConfig): Promise<Finding[]> {
  const check = `site "${config.siteName}"`
  const answer = await ask(runner, config.appcmd, ['list', 'site', config.siteName])
  if ('missing' in answer) return [{ check, status: 'fail', detail: 'not checked without appcmd', fix: INSTALL_IIS }]
  const add = `appcmd add site /name:"${config.siteName}" /bindings:http/*:80: /physicalPath:C:\\inetpub\\wwwroot`
  if (isListMiss(answer.exitCode, answer.stdout)) return [{ check, status: 'fail', detail: 'no such site in IIS', fix: add }]
  const m = SITE_LINE.exec(answer.stdout)
  if (!m)
    return [
      { check, status: 'warn', detail: `appcmd list site answered: ${answer.stdout.trim()}`, fix: `appcmd list site "${config.siteName}"` }
    ]
  const [, , id, bindings = '', state = ''] = m
  const out: Finding[] = []
  out.push(
    state.toLowerCase() === 'started'
      ? { check, status: 'ok', detail: `id ${id}, started` }
      : { check, status: 'fail', detail: `id ${id}, ${state}`, fix: `appcmd start site /site.name:"${config.siteName}"` }
  )
  const web = bindings.split(',').filter(b => /^https?\//i.test(b))
  out.push(
    web.length > 0
      ? { check: `bindings of "${config.siteName}"`, status: 'ok', detail: web.join(', ') }
      : {
          check: `bindings of "${config.siteName}"`,
          status: 'warn',
          detail: `no http or https binding (${bindings || 'none'}): verify needs verify-url`,
          fix: `appcmd set site /site.name:"${config.siteName}" /+bindings.[protocol='http',bindingInformation='*:80:']`
        }
  )
  return out
}
