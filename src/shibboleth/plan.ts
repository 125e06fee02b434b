import fs from 'node:fs'
import path from 'node:path'
import type { Operation } from '../plan/types.js'
import type { TemplateSet } from '../render/templates.js'
import type { ShibbolethProposal, ShibbolethTarget } from './apply.js'
import { proposeShibbolethConfig } from './apply.js'
import { checkArgv } from './check.js'
import { proposeLeave, recordedEntries, type LeaveTarget } from './leave.js'
import { recyclePlanOperations } from './recycle.js'
import { restartOperations } from './service.js'

export interface ShibbolethPlan {
  changed: boolean
  changes: string[]
  /** Unified diff of the server's file against the patched one; '' when unchanged. */
  diff: string
  /** Where the patched file was written for review: output-dir/shibboleth2.xml. */
  outputPath: string
  /** What the SP change runs before IIS is touched, in order; empty when the file is already right. */
  operations: Operation[]
  /** The recycle of the site's pools, after IIS: its pools are only known on the server. */
  recycleOperations: Operation[]
}

/** Plan mode: the patched file goes to the output folder, the server's file is only read. */
export function planShibboleth(target: ShibbolethTarget, outputDir: string, templates: TemplateSet): ShibbolethPlan {
  const proposal = proposeShibbolethConfig(target.configPath, target.want, templates, true)
  const outputPath = path.join(outputDir, 'shibboleth2.xml')
  fs.mkdirSync(outputDir, { recursive: true })
  fs.writeFileSync(outputPath, proposal.next)
  const operations = writeOperations(target, proposal)
  const recycleOperations = proposal.changed && proposal.recycleReason ? recyclePlanOperations(target.site, proposal.recycleReason) : []
  return { changed: proposal.changed, changes: proposal.changes, diff: proposal.diff, outputPath, operations, recycleOperations }
}

/** Backup, write, check, restart: what apply runs for a changed file, empty for an unchanged one. */
function writeOperations(target: LeaveTarget & { site: string }, proposal: ShibbolethProposal): Operation[] {
  if (!proposal.changed) return []
  return [
    {
      tool: 'file',
      argv: ['copy', target.configPath, `${target.configPath}.<timestamp>.bak`],
      why: 'back up shibboleth2.xml beside itself',
      mutates: true
    },
    { tool: 'file', argv: ['write', target.configPath], why: proposal.changes.join('; '), mutates: true },
    {
      tool: 'shibboleth',
      argv: checkArgv(target.check, target.configPath),
      why: "the SP's own check; a failure restores the backup",
      mutates: false
    },
    ...restartOperations({ service: target.service, net: target.net ?? 'net' })
  ]
}

/**
 * A run that is not shibboleth: the removal of the RequestMap entries the record says the action added, or
 * undefined when it names none for this file. The server's file is only read.
 */
export function planLeaveShibboleth(
  target: LeaveTarget & { site: string; deployRoot: string },
  outputDir: string
): ShibbolethPlan | undefined {
  const entries = recordedEntries(target)
  if (entries.length === 0) return undefined
  const proposal = proposeLeave(target.configPath, entries)
  const outputPath = path.join(outputDir, 'shibboleth2.xml')
  if (proposal.changed) {
    fs.mkdirSync(outputDir, { recursive: true })
    fs.writeFileSync(outputPath, proposal.next)
  }
  return {
    changed: proposal.changed,
    changes: [...proposal.changes, ...proposal.notes],
    diff: proposal.diff,
    outputPath,
    operations: writeOperations(target, proposal),
    recycleOperations: proposal.changed && proposal.recycleReason ? recyclePlanOperations(target.site, proposal.recycleReason) : []
  }
}
