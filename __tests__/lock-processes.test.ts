/**
 * The lock under real contention: several node processes (not promises in one process) start at the same moment on
 * a lock left by a run that died, and each records in one shared journal when it holds the lock. Two holders at
 * once is the failure; breaking a stale lock by "read, then remove" let a slow run remove a fast run's fresh lock
 * (6 of 40 trials here before the fix).
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { lockFileFor } from '../src/iis/lock.js'
import { compileForChild } from './support/compile-module.js'
import { tempDir } from './support/temp-dir.js'

const CONTENDER = path.join(import.meta.dirname, 'support', 'lock-contender.mjs')
let lockModule: string

beforeAll(() => {
  lockModule = compileForChild('iis/lock.ts', tempDir('lock-module'))
})

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout)
}

interface Trial {
  id: number
  dir: string
  startAt: number
  holdMs: number
  options?: Record<string, unknown>
}

/** Runs `contenders` processes through every trial and returns the journal's lines. */
async function contend(trials: Trial[], contenders: number, work: string): Promise<string[]> {
  const trialsFile = path.join(work, 'trials.json')
  const journal = path.join(work, 'journal.txt')
  fs.writeFileSync(trialsFile, JSON.stringify(trials))
  fs.writeFileSync(journal, '')
  const exits = await Promise.all(
    Array.from(
      { length: contenders },
      (_, i) =>
        new Promise<{ code: number | null; stderr: string }>(resolve => {
          const child = spawn(process.execPath, [CONTENDER, lockModule, trialsFile, journal, `c${i}`], {
            stdio: ['ignore', 'ignore', 'pipe']
          })
          let stderr = ''
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
          child.on('close', code => resolve({ code, stderr }))
        })
    )
  )
  for (const e of exits) expect(e.code, e.stderr).toBe(0)
  return fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean)
}

/** Trials in which two contenders held the lock at once, and how many entered each trial. */
function analyse(lines: string[]): { overlapping: number[]; entered: Map<number, number> } {
  const holders = new Map<number, number>()
  const entered = new Map<number, number>()
  const overlapping = new Set<number>()
  for (const line of lines) {
    const [what, id] = line.split(' ')
    const trial = Number(id)
    const now = holders.get(trial) ?? 0
    if (what === 'enter') {
      if (now > 0) overlapping.add(trial)
      holders.set(trial, now + 1)
      entered.set(trial, (entered.get(trial) ?? 0) + 1)
    } else holders.set(trial, now - 1)
  }
  return { overlapping: [...overlapping], entered }
}

const CONTENDERS = 8
const TRIALS = 40

describe('the lock with real processes starting together', () => {
  it(`never has two holders when ${CONTENDERS} processes break one stale or abandoned empty lock (${TRIALS} trials)`, async () => {
    const work = tempDir('lock-processes')
    // The contenders need time to start before the first trial; then one trial every 400 ms. Each holds the lock
    // 25 ms, longer than the delays the contender puts before file-system calls, so a second holder overlaps.
    const first = Date.now() + 1500
    const pid = deadPid()
    const trials: Trial[] = Array.from({ length: TRIALS }, (_, id) => {
      const dir = path.join(work, `t${id}`)
      fs.mkdirSync(dir)
      const file = lockFileFor(dir, 'Default Web Site', '/app')
      // Even trials: the lock of a run that died; odd ones: a lock file its writer left empty a minute ago.
      if (id % 2 === 0)
        fs.writeFileSync(
          file,
          JSON.stringify({ runId: 'crashed', pid, host: os.hostname(), time: '2020-01-01T00:00:00.000Z', target: 'Default Web Site/app' })
        )
      else {
        fs.writeFileSync(file, '')
        const minuteAgo = new Date(Date.now() - 60_000)
        fs.utimesSync(file, minuteAgo, minuteAgo)
      }
      return { id, dir, startAt: first + id * 400, holdMs: 25, options: { staleGraceMs: 10_000 } }
    })
    const { overlapping, entered } = analyse(await contend(trials, CONTENDERS, work))
    expect(overlapping, `trials with two holders at once: ${overlapping.join(', ')}`).toEqual([])
    for (const t of trials) expect(entered.get(t.id)).toBe(CONTENDERS)
    // Every trial ends with its lock released and no marker of the breaking left behind.
    for (const t of trials) expect(fs.readdirSync(t.dir)).toEqual([])
  })
})
