/** What plan, stage and deploy write for review: the rendered files and plan.json, in output-dir. */
import fs from 'node:fs'
import path from 'node:path'
import { settingsModuleFile, type DeployConfig } from '../config.js'
import { pendingGrants } from '../iis/acl.js'
import { backupRecordFile, readBackupRecord } from '../iis/backup.js'
import { findBackupFolders } from '../iis/backup-folder.js'
import type { CurrentState } from '../iis/state.js'
import { layoutFor } from '../layout.js'
import type { Log } from '../log.js'
import { writeFileAtomic } from '../render/atomic-write.js'
import type { RenderedFile } from '../render/release-configs.js'
import type { RunReport } from '../report.js'
import type { ShibbolethPlan } from '../shibboleth/plan.js'
import { buildPlan, type DeployPlan, type PlanInput } from './build.js'
import { planJson, planText, type PlanDocument } from './plan-file.js'
import type { DesiredState } from './types.js'

/** What plan mode, which builds no venv to ask Django, reads from the settings file's literal assignments. */
export interface SettingsFromSource {
  /** '' when the file does not assign a literal. */
  wsgiApplication: string
  /** undefined when the file does not assign a literal (computed, or from the environment). */
  staticUrl?: string
  forceScriptName: string | null
}

export function settingsFromSource(config: DeployConfig): SettingsFromSource {
  const file = settingsModuleFile(config.appDir, config.settingsModule)
  let text = ''
  try {
    text = file ? fs.readFileSync(file, 'utf8') : ''
  } catch {
    // Unreadable: plan mode shows what the defaults give.
  }
  const literal = (name: string): string | undefined => new RegExp(`^${name}\\s*=\\s*['"]([^'"\\r\\n]*)['"]`, 'm').exec(text)?.[1]
  return {
    wsgiApplication: /^[\w.]+$/.test(literal('WSGI_APPLICATION') ?? '') ? (literal('WSGI_APPLICATION') ?? '') : '',
    staticUrl: literal('STATIC_URL'),
    forceScriptName: literal('FORCE_SCRIPT_NAME') ?? null
  }
}

/**
 * The deploy plan for `config`: the grants deploy-root has no record of, against `current` (the server as read;
 * undefined plans against an empty server), with the SP's steps when it changes.
 */
export async function deployPlanFor(
  config: DeployConfig,
  desired: DesiredState,
  current: CurrentState | undefined,
  sp?: Pick<ShibbolethPlan, 'operations' | 'recycleOperations'>,
  preSwitch?: PlanInput['preSwitch'],
  restorePoint?: string
): Promise<DeployPlan> {
  const root = layoutFor(config.deployRoot).root
  const knownBackups = readBackupRecord(backupRecordFile(config.lockDir))
  return buildPlan({
    deployRoot: root,
    desired,
    current,
    grants: pendingGrants(root, desired.pool.name, desired.acl, desired.pool.principal),
    releaseId: config.releaseId,
    keepBackups: config.keepBackups,
    backupRecordFile: backupRecordFile(config.lockDir),
    knownBackups,
    backupFolders: await findBackupFolders(config.appcmd, knownBackups ?? []),
    now: new Date(),
    spConfig: sp?.operations,
    spRecycle: sp?.recycleOperations,
    ...(preSwitch ? { preSwitch } : {}),
    ...(restorePoint ? { restorePoint } : {})
  })
}

export function writeOutputFiles(outputDir: string, configs: RenderedFile[]): RunReport['files'] {
  return configs.map(file => {
    const target = path.join(outputDir, ...file.relPath.split('/'))
    return { path: target, status: writeFileAtomic(target, file.content) ? ('written' as const) : ('unchanged' as const) }
  })
}

export function writePlan(config: DeployConfig, log: Log, plan: PlanDocument): string {
  const file = path.join(config.outputDir, 'plan.json')
  const redact = (text: string): string => log.redact(text)
  writeFileAtomic(file, planJson(plan, redact))
  log.info(planText(plan, redact))
  return file
}

export function planDocument(config: DeployConfig, releaseId: string, plan: DeployPlan, files: RunReport['files']): PlanDocument {
  return {
    target: {
      site: config.siteName,
      appPath: config.appPath,
      pool: config.appPool,
      deployRoot: config.deployRoot,
      hosting: config.hosting
    },
    mode: config.mode,
    release: releaseId,
    diffedAgainstServer: plan.diffedAgainstServer,
    operations: plan.steps,
    files
  }
}
