/**
 * Changes someone else made to the target's IIS objects since an interrupted run's backup: what the run did not
 * write but differs now from the journal's before-state. Recovery names them instead of reverting them silently.
 */
import { sameName } from '../iis/app-location.js'
import type { CurrentState, NameValue } from '../iis/state.js'
import { samePath } from '../windows-path.js'
import { MASKED, type JournalStep, type RunJournal } from './store.js'

/** What the run's steps wrote, by the names recovery compares. */
interface Written {
  pool: boolean
  app: boolean
  vdirs: string[]
  fastCgi: string[]
  httpPlatform: string[]
  /** fullPath of each FastCGI registration a step added, removed or changed. */
  registrations: string[]
}

const VAR = /(?:^|\.)environmentVariables\.\[name='([^']*)'/

/** What foreignChanges reads of a journal: a rollback builds it from its own trail (src/iis/rollback.ts). */
export interface ChangesSince extends Pick<RunJournal, 'before' | 'desired'> {
  steps: Pick<JournalStep, 'tool' | 'argv' | 'mutates' | 'status'>[]
}

function written(journal: ChangesSince): Written {
  const out: Written = { pool: false, app: false, vdirs: [], fastCgi: [], httpPlatform: [], registrations: [] }
  for (const step of journal.steps) {
    if (step.tool !== 'appcmd' || !step.mutates || step.status === 'failed') continue
    const [verb = '', object = '', ...rest] = step.argv
    if (object === 'apppool' && verb !== 'recycle') out.pool = true
    if (object === 'app') out.app = true
    if (object === 'vdir') out.vdirs.push(verb === 'add' ? (rest.find(a => /^\/path:/i.test(a)) ?? '').slice(6) : (rest[0] ?? ''))
    const change = rest.find(a => /^\/[+-]?\[/.test(a) || /^\/[+-]?environmentVariables/.test(a)) ?? ''
    const name = VAR.exec(change.replace(/^\/[+-]?/, ''))?.[1]
    if (rest.includes('-section:system.webServer/fastCgi')) {
      out.fastCgi.push(name ?? '*')
      const fullPath = /fullPath='([^']*)'/.exec(change)?.[1]
      if (fullPath !== undefined) out.registrations.push(fullPath.toLowerCase())
    }
    if (rest.includes('-section:system.webServer/httpPlatform')) out.httpPlatform.push(name ?? '*')
  }
  return out
}

function varChanges(what: string, before: NameValue[], now: NameValue[], ours: string[]): string[] {
  const names = new Set([...before, ...now].map(v => v.name.toLowerCase()))
  const out: string[] = []
  for (const name of names) {
    if (ours.includes('*') || ours.some(n => sameName(n, name))) continue
    const was = before.find(v => sameName(v.name, name))
    const is = now.find(v => sameName(v.name, name))
    if (was?.value === MASKED) continue
    if (!was) out.push(`${what} variable ${is?.name ?? name} was added`)
    else if (!is) out.push(`${what} variable ${was.name} was removed`)
    else if (was.value !== is.value) out.push(`${what} variable ${was.name} was changed`)
  }
  return out
}

/** One line per change made since the backup to an object (or variable) of the target that the run did not write. */
export function foreignChanges(journal: ChangesSince, now: CurrentState): string[] {
  const { before } = journal
  const ours = written(journal)
  const out: string[] = []
  const pool = journal.desired.pool.name
  if (!ours.pool) {
    if (before.pool.exists !== now.pool.exists) out.push(`app pool ${pool} was ${now.pool.exists ? 'added' : 'removed'}`)
    else if (
      before.pool.identity !== now.pool.identity ||
      before.pool.managedRuntimeVersion !== now.pool.managedRuntimeVersion ||
      before.pool.userName !== now.pool.userName
    )
      out.push(`app pool ${pool} was changed`)
  }
  const app = `${journal.desired.app.site}${journal.desired.app.path}`
  if (!ours.app && !ours.vdirs.some(v => v.endsWith('/') || v === '/')) {
    if (before.app.exists !== now.app.exists) out.push(`application ${app} was ${now.app.exists ? 'added' : 'removed'}`)
    // A missing app has no pool or path to compare (what the read leaves there is not IIS's).
    else if (now.app.exists && (before.app.pool !== now.app.pool || !samePath(before.app.physicalPath, now.app.physicalPath)))
      out.push(`application ${app} was changed`)
  }
  const vdirPaths = new Set([...before.vdirs, ...now.vdirs].map(v => v.path.toLowerCase()))
  for (const vpath of vdirPaths) {
    if (ours.vdirs.some(id => id.toLowerCase().endsWith(vpath))) continue
    const was = before.vdirs.find(v => sameName(v.path, vpath))
    const is = now.vdirs.find(v => sameName(v.path, vpath))
    if (!was || !is || !samePath(was.physicalPath, is.physicalPath))
      out.push(`virtual directory ${app}${(was ?? is)?.path ?? vpath} was ${!was ? 'added' : !is ? 'removed' : 'changed'}`)
  }
  const keys = new Set([...before.fastCgi, ...now.fastCgi].map(a => `${a.fullPath}|${a.arguments}`.toLowerCase()))
  for (const key of keys) {
    const was = before.fastCgi.find(a => `${a.fullPath}|${a.arguments}`.toLowerCase() === key)
    const is = now.fastCgi.find(a => `${a.fullPath}|${a.arguments}`.toLowerCase() === key)
    const mine =
      ours.registrations.includes(key.split('|')[0] ?? '') ||
      (journal.desired.fastCgi && `${journal.desired.fastCgi.fullPath}|${journal.desired.fastCgi.arguments}`.toLowerCase() === key)
    const label = `FastCGI application ${(was ?? is)?.fullPath ?? key}`
    if (!was || !is) {
      if (!mine) out.push(`${label} was ${!was ? 'registered' : 'removed'}`)
      continue
    }
    out.push(...varChanges(label, was.env, is.env, mine ? ours.fastCgi : []))
  }
  if (before.httpPlatformEnv && now.httpPlatformEnv)
    out.push(...varChanges(`httpPlatform of ${app}`, before.httpPlatformEnv, now.httpPlatformEnv, ours.httpPlatform))
  return out
}
