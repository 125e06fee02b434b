// Servers for the kill -9 crash tests (__tests__/crash-kill.test.ts): an IIS sandbox with its stand-in and a
// deploy-root at fixed paths, and snapshots of them that each crash point starts from.
import fs from 'node:fs'
import path from 'node:path'
import { createIisSandbox, type IisSandbox } from './iis-sandbox.js'
import { startIisStandin, type IisStandin } from './iis-standin.mjs'

/** One server: an IIS sandbox, its stand-in, a deploy-root, all at fixed paths so a snapshot restores in place. */
export interface Slot {
  dir: string
  sandbox: IisSandbox
  standin: IisStandin
  deployRoot: string
}

export async function newSlot(work: string, name: string): Promise<Slot> {
  const dir = path.join(work, name)
  fs.mkdirSync(dir, { recursive: true })
  const sandbox = createIisSandbox()
  const standin = await startIisStandin({ configPath: sandbox.configPath })
  return { dir, sandbox, standin, deployRoot: path.join(dir, 'deploy-root') }
}

export interface Snapshot {
  deployRoot: string
  config: string
  /** The appcmd double's backups: a run prunes old ones, and its calls depend on which there are. */
  backups: string
}

export function takeSnapshot(slot: Slot, name: string): Snapshot {
  const deployRoot = path.join(slot.dir, `snapshot-${name}`)
  const backups = path.join(slot.dir, `snapshot-${name}-backups`)
  for (const dir of [deployRoot, backups]) fs.rmSync(dir, { recursive: true, force: true })
  fs.cpSync(slot.deployRoot, deployRoot, { recursive: true, verbatimSymlinks: true })
  fs.mkdirSync(backups, { recursive: true })
  if (fs.existsSync(slot.sandbox.backupsDir)) fs.cpSync(slot.sandbox.backupsDir, backups, { recursive: true })
  return { deployRoot, config: slot.sandbox.readConfig(), backups }
}

/**
 * Makes `dst` hold what `src` holds, keeping the folders both have: the stand-in's worker runs in the release
 * folder and would answer 500 from a deleted one (real IIS's workers would be recycled; the stand-in keys them
 * by configuration only).
 */
export function syncDir(src: string, dst: string): void {
  fs.mkdirSync(dst, { recursive: true })
  const wanted = new Set(fs.readdirSync(src))
  for (const name of fs.readdirSync(dst)) if (!wanted.has(name)) fs.rmSync(path.join(dst, name), { recursive: true, force: true })
  for (const name of wanted) {
    const from = path.join(src, name)
    const to = path.join(dst, name)
    const stat = fs.lstatSync(from)
    const there = fs.existsSync(to) ? fs.lstatSync(to) : undefined
    if (stat.isDirectory() && there?.isDirectory()) syncDir(from, to)
    else {
      if (there) fs.rmSync(to, { recursive: true, force: true })
      fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true })
    }
  }
}

export function restore(slot: Slot, snap: Snapshot): void {
  syncDir(snap.deployRoot, slot.deployRoot)
  fs.writeFileSync(slot.sandbox.configPath, snap.config)
  fs.rmSync(slot.sandbox.backupsDir, { recursive: true, force: true })
  fs.cpSync(snap.backups, slot.sandbox.backupsDir, { recursive: true })
  slot.sandbox.resetCounters()
}

export const releaseDir = (slot: Slot, id: string): string => path.join(slot.deployRoot, 'releases', id)
export const releaseState = (slot: Slot, id: string): string | undefined => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(releaseDir(slot, id), 'release.json'), 'utf8')) as { state?: string }).state
  } catch {
    return undefined
  }
}
export function servedRoot(slot: Slot): string | undefined {
  const app = /<application path="\/app"[^>]*>([\s\S]*?)<\/application>/.exec(slot.sandbox.readConfig())?.[1] ?? ''
  return /<virtualDirectory path="\/" physicalPath="([^"]*)"/.exec(app)?.[1]
}
