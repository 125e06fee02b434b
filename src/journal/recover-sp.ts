/**
 * Recovery of the SP config change an interrupted run made (the journal's `sp` entry, src/journal/store.ts): the
 * prior shibboleth2.xml goes back from the run's backup (or the file the run created is removed), with the SP
 * entry record, and the SP restarts on it. A file someone else changed since the run wrote it is named, not reverted.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { asError } from '../errors.js'
import type { Appcmd } from '../iis/appcmd.js'
import type { Log } from '../log.js'
import type { ProcessRunner } from '../process.js'
import { writeFileAtomic } from '../render/atomic-write.js'
import { SP_RECORD_FILE } from '../shibboleth/entry-record.js'
import { recycleSitePools } from '../shibboleth/recycle.js'
import { restartService } from '../shibboleth/service.js'
import type { RunJournal } from './store.js'

export interface SpRecoveryDeps {
  runner: ProcessRunner
  log: Log
  appcmd: Appcmd
  deployRoot: string
}

export interface SpRecoveryResult {
  restored: string[]
  failed: string[]
  foreign: string[]
}

const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex')

function readOrUndefined(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file)
  } catch {
    return undefined
  }
}

/** Puts the SP config back as it was before the interrupted run; never throws. */
export async function recoverSpChange(deps: SpRecoveryDeps, journal: RunJournal): Promise<SpRecoveryResult> {
  const out: SpRecoveryResult = { restored: [], failed: [], foreign: [] }
  const sp = journal.sp
  if (!sp) return out
  const now = readOrUndefined(sp.configPath)
  const nowSha = now && sha256(now)
  // Killed before the write, or after its own check put the prior file back: the file is as it was.
  if (nowSha === sp.originalSha256) return out
  if (nowSha !== sp.writtenSha256) {
    out.foreign.push(`${sp.configPath} was ${now ? 'changed' : 'removed'} since the interrupted run wrote it`)
    return out
  }
  try {
    if (sp.backupPath === undefined) fs.rmSync(sp.configPath, { force: true })
    else {
      const prior = fs.readFileSync(sp.backupPath)
      if (sha256(prior) !== sp.originalSha256) throw new Error(`the backup ${sp.backupPath} is not the file the run replaced`)
      writeFileAtomic(sp.configPath, prior)
    }
    const record = path.join(deps.deployRoot, SP_RECORD_FILE)
    if (sp.entryRecord === null) fs.rmSync(record, { force: true })
    else writeFileAtomic(record, sp.entryRecord)
  } catch (err) {
    out.failed.push(`${sp.configPath} (${asError(err).message})`)
    return out
  }
  out.restored.push(sp.backupPath ? `${sp.configPath} restored from ${sp.backupPath}` : `${sp.configPath}, which that run created, removed`)
  try {
    // shibd reads its config at start (src/shibboleth/service.ts): it may be running the interrupted run's file.
    await restartService(deps.runner, { service: sp.service, net: sp.net })
    out.restored.push(`${sp.service} restarted`)
  } catch (err) {
    out.failed.push(`restarting ${sp.service} (${asError(err).message})`)
  }
  if (sp.recycle) {
    const recycled = await recycleSitePools(deps.appcmd, deps.log, journal.desired.app.site)
    if (recycled.recycled.length > 0) out.restored.push(`IIS module site list (recycled ${recycled.recycled.join(', ')})`)
    // As after a deploy's own SP change (src/flow/deploy-steps.ts recycleForSp): a pool not recycled only warns.
    for (const failure of recycled.failed)
      deps.log.warning(`The Shibboleth IIS module may still map the site with a stale <ISAPI> site list: ${failure}`)
  }
  return out
}
