import fs from 'node:fs'
import path from 'node:path'
import type { DeployConfig } from '../config.js'
import type { Log } from '../log.js'
import type { ProcessRunner } from '../process.js'
import { failures, findingLines, type Finding } from './findings.js'
import { deployRootFindings, pythonAclFindings, pythonFinding, runnerFinding, shibbolethFindings } from './host-checks.js'
import { hostingModuleFindings, iisServiceFinding, siteFindings } from './iis-checks.js'

export interface DoctorDeps {
  runner: ProcessRunner
  env: NodeJS.ProcessEnv
  log: Log
  setFailed: (message: string) => void
  /** Free bytes on the volume of a folder (the nearest existing one); undefined when unknown. */
  freeBytes?: (dir: string) => number | undefined
}

/** Free space of the volume holding `dir`, read from its nearest existing parent (deploy-root may not exist yet). */
export function volumeFreeBytes(dir: string): number | undefined {
  let at = dir
  for (;;) {
    try {
      const s = fs.statfsSync(at)
      return s.bavail * s.bsize
    } catch {
      const up = path.dirname(at)
      if (up === at) return undefined
      at = up
    }
  }
}

/** Every check of a server before a deploy; each reads only, so the server is the same afterwards. */
export async function runDoctor(deps: DoctorDeps, config: DeployConfig): Promise<Finding[]> {
  const { runner } = deps
  const findings: Finding[] = [runnerFinding(deps.env), await iisServiceFinding(runner)]
  findings.push(...(await hostingModuleFindings(runner, config)))
  findings.push(...(await siteFindings(runner, config)))
  const python = await pythonFinding(runner, config)
  findings.push(python.finding)
  findings.push(...(await pythonAclFindings(runner, config, python.facts)))
  findings.push(...(await deployRootFindings(runner, config, deps.freeBytes ?? volumeFreeBytes)))
  if (config.shibboleth.enabled) findings.push(...(await shibbolethFindings(runner, config)))
  return findings
}

/** mode: doctor: the findings in the log and the summary (through the report), failing the step only on fail findings. */
export async function doctorMode(deps: DoctorDeps, config: DeployConfig, report: { doctor?: Finding[] }): Promise<void> {
  const findings = await deps.log.group('Doctor', () => runDoctor(deps, config))
  report.doctor = findings
  for (const line of findingLines(findings)) deps.log.info(line)
  for (const f of findings.filter(f => f.status === 'warn')) deps.log.warning(`${f.check}: ${f.detail}. Fix: ${f.fix ?? ''}`)
  const failed = failures(findings)
  if (failed.length > 0)
    deps.setFailed(`doctor: ${failed.length} check(s) failed: ${failed.map(f => `${f.check}: ${f.detail}`).join('; ')}`)
}
