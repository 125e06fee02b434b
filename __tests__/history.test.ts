import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { entryFromRun, outcomeOf, recordRun, runUrlOf } from '../src/history/record.js'
import { appendHistory, historyFileFor, lastLive, readHistory, type HistoryEntry } from '../src/history/store.js'
import { Redactor } from '../src/log.js'
import { emptyReport, renderSummary, setOutputs, type RunReport } from '../src/report.js'
import { tempDir } from './support/temp-dir.js'

const SECRET = 'hunter2-db-Passw0rd'
const ENV = {
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_ACTOR: 'oncall-admin',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'org/app',
  GITHUB_RUN_ID: '4242'
}

function entry(overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    time: '2026-12-01T10:00:00.000Z',
    mode: 'deploy',
    target: { site: 'Default Web Site', appPath: '/app' },
    releaseId: 'r1',
    outcome: 'deployed',
    releaseBuilt: true,
    iisChanges: [],
    live: 'r1',
    ...overrides
  }
}

function deployReport(root: string, overrides: Partial<RunReport> = {}): RunReport {
  return {
    ...emptyReport(),
    target: { site: 'Default Web Site', appPath: '/app', pool: 'p', deployRoot: root },
    releaseId: 'r2',
    changed: true,
    releaseBuilt: true,
    objects: [
      { kind: 'APP', name: 'Default Web Site/app', status: 'changed' },
      { kind: 'VDIR', name: 'Default Web Site/app/static', status: 'unchanged' }
    ],
    ...overrides
  }
}

function testLog(redactor = new Redactor()): { warnings: string[]; warning: (m: string) => void; redact: (t: string) => string } {
  const warnings: string[] = []
  return { warnings, warning: m => warnings.push(m), redact: t => redactor.redact(t) }
}

describe('release history file', () => {
  it('appends one JSON line per run and reads them back oldest first', () => {
    const file = historyFileFor(tempDir('hist'), { site: 'S', appPath: '/app' })
    appendHistory(file, entry({ releaseId: 'r1' }), t => t)
    appendHistory(file, entry({ releaseId: 'r2', live: 'r2' }), t => t)
    expect(fs.readFileSync(file, 'utf8').split('\n')).toHaveLength(3)
    expect(readHistory(file, () => {}).map(e => e.releaseId)).toEqual(['r1', 'r2'])
  })

  it('skips a torn last line with a warning, and the next entry starts a line of its own', () => {
    const file = historyFileFor(tempDir('hist'), { site: 'S', appPath: '/app' })
    appendHistory(file, entry({ releaseId: 'r1' }), t => t)
    const whole = JSON.stringify(entry({ releaseId: 'r2' }))
    fs.appendFileSync(file, whole.slice(0, whole.length / 2))
    const warnings: string[] = []
    expect(readHistory(file, m => warnings.push(m)).map(e => e.releaseId)).toEqual(['r1'])
    expect(warnings).toEqual([expect.stringMatching(/line 2 is incomplete/)])
    appendHistory(file, entry({ releaseId: 'r3', live: 'r3' }), t => t)
    expect(readHistory(file, () => {}).map(e => e.releaseId)).toEqual(['r1', 'r3'])
  })

  it('masks secrets in every field without breaking the JSON, even a secret holding a quote', () => {
    const file = historyFileFor(tempDir('hist'), { site: 'S', appPath: '/app' })
    const quoted = 'pa"ss\\word-42'
    const redactor = new Redactor()
    redactor.add(SECRET)
    redactor.add(quoted)
    appendHistory(file, entry({ error: `login failed for ${SECRET} and ${quoted}`, iisChanges: [`changed ENV ${SECRET}`] }), t =>
      redactor.redact(t)
    )
    const text = fs.readFileSync(file, 'utf8')
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain('pa\\"ss')
    const [read] = readHistory(file, () => {})
    expect(read?.error).toBe('login failed for *** and ***')
    expect(read?.iisChanges).toEqual(['changed ENV ***'])
  })

  it('keeps one file per target, differing in case only sharing it as IIS does', () => {
    const root = tempDir('hist')
    const a = historyFileFor(root, { site: 'S', appPath: '/app' })
    expect(historyFileFor(root, { site: 's', appPath: '/APP' })).toBe(a)
    expect(historyFileFor(root, { site: 'S', appPath: '/other' })).not.toBe(a)
    expect(path.dirname(a)).toBe(path.join(root, 'history'))
  })
})

describe('entries of a run', () => {
  it('names the outcome from the report', () => {
    expect(outcomeOf({ changed: true, rolledBack: false, checks: [] })).toBe('deployed')
    expect(outcomeOf({ changed: false, rolledBack: false, checks: [] })).toBe('no-op')
    expect(outcomeOf({ error: 'x', changed: true, rolledBack: true, checks: [] })).toBe('failed-rolled-back')
    expect(outcomeOf({ error: 'x', changed: true, rolledBack: false, checks: [] })).toBe('failed')
  })

  it('records commit, actor, run URL and the IIS objects that changed', () => {
    const e = entryFromRun(deployReport('/r'), ENV, 'r1', new Date('2026-12-02T09:00:00Z'))
    expect(e).toMatchObject({
      time: '2026-12-02T09:00:00.000Z',
      releaseId: 'r2',
      outcome: 'deployed',
      commit: ENV.GITHUB_SHA,
      actor: 'oncall-admin',
      runUrl: 'https://github.com/org/app/actions/runs/4242',
      releaseBuilt: true,
      iisChanges: ['changed APP Default Web Site/app'],
      live: 'r2'
    })
    expect(runUrlOf({})).toBeUndefined()
  })

  it('keeps the previous release live after a rolled-back failure, and knows none after a failure that was not', () => {
    const rolled = deployReport('/r', { error: 'verify failed', rolledBack: true })
    expect(entryFromRun(rolled, ENV, 'r1').live).toBe('r1')
    expect(entryFromRun(deployReport('/r', { error: 'apply failed' }), ENV, 'r1').live).toBeUndefined()
    expect(entryFromRun(deployReport('/r', { error: 'stage failed', changed: false }), ENV, 'r1').live).toBe('r1')
  })
})

describe('recordRun', () => {
  it('gives the release live before this run as previous-release, and shows the last entries in the summary', () => {
    const root = tempDir('hist')
    const log = testLog()
    recordRun(deployReport(root, { releaseId: 'r1' }), ENV, log)
    const second = deployReport(root, { releaseId: 'r2' })
    recordRun(second, ENV, log)
    expect(second.previousRelease).toBe('r1')
    const outputs: Record<string, string> = {}
    setOutputs(second, (k, v) => (outputs[k] = v))
    expect(outputs['previous-release']).toBe('r1')

    const failed = deployReport(root, { releaseId: 'r3', error: 'verify failed', rolledBack: true })
    recordRun(failed, ENV, log)
    expect(failed.previousRelease).toBe('r2')
    const next = deployReport(root, { releaseId: 'r4' })
    recordRun(next, ENV, log)
    // r3 never stayed live: the release before r4 is r2.
    expect(next.previousRelease).toBe('r2')
    expect(lastLive(readHistory(historyFileFor(root, { site: 'Default Web Site', appPath: '/app' }), () => {}))).toBe('r4')

    const summary = renderSummary(next)
    expect(summary).toContain('### Release history')
    const rows = summary.split('\n').filter(l => /^\| 20\d\d-/.test(l))
    expect(rows.map(r => /`(r\d)`/.exec(r)?.[1])).toEqual(['r4', 'r3', 'r2', 'r1'])
    expect(rows[1]).toContain('failed-rolled-back')
    expect(summary).toContain('(https://github.com/org/app/actions/runs/4242)')
    expect(log.warnings).toEqual([])
  })

  it('lists the IIS writes apply ran, short and masked, and counts them in the summary', () => {
    const root = tempDir('hist')
    const redactor = new Redactor()
    redactor.add(SECRET)
    const report = deployReport(root, {
      operations: [
        { tool: 'appcmd', argv: ['set', 'vdir', 'Default Web Site/app/', `/physicalPath:C:\\r\\r2`], why: 'switch', mutates: true },
        { tool: 'appcmd', argv: ['set', 'config', `-section:${SECRET}`, '/+[x]'], why: 'env', mutates: true },
        { tool: 'icacls', argv: ['C:\\r\\r2', '/grant:r', 'IIS AppPool\\p:(OI)(CI)(RX)', '/Q'], why: 'read', mutates: true }
      ]
    })
    recordRun(report, ENV, testLog(redactor))
    const [e] = readHistory(historyFileFor(root, { site: 'Default Web Site', appPath: '/app' }), () => {})
    expect(e?.iisOperations).toEqual([
      'appcmd set vdir Default Web Site/app/',
      'appcmd set config -section:***',
      'icacls C:\\r\\r2 /grant:r IIS AppPool\\p:(OI)(CI)(RX)'
    ])
    expect(renderSummary(report)).toMatch(/\| deployed \| `0123456789ab` \| oncall-admin \| 3 \|/)
  })

  it('never throws: a history it cannot write only warns', () => {
    const root = tempDir('hist')
    fs.writeFileSync(path.join(root, 'history'), 'a file where the folder should be')
    const log = testLog()
    const report = deployReport(root)
    expect(() => recordRun(report, ENV, log)).not.toThrow()
    expect(log.warnings).toEqual([expect.stringMatching(/^release history not written/)])
  })

  it('writes no secret into the file or the summary', () => {
    const root = tempDir('hist')
    const redactor = new Redactor()
    redactor.add(SECRET)
    const report = deployReport(root, { error: `pip failed: https://user:${SECRET}@pypi.example/simple` })
    recordRun(report, ENV, testLog(redactor))
    const text = fs.readFileSync(historyFileFor(root, { site: 'Default Web Site', appPath: '/app' }), 'utf8')
    expect(text).toContain('pip failed')
    expect(text).not.toContain(SECRET)
    expect(JSON.stringify(report.history)).not.toContain(SECRET)
  })
})
