/**
 * src/iis/restore-point.ts in process: when the backup is taken, what the record of our backups says about it,
 * and what apply and the end of the run do with it. appcmd is a scripted runner: this is about ordering and
 * bookkeeping, not about what appcmd answers (the integration test restore-point.test.ts uses the double).
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { readBackupRecord, writeBackupRecord } from '../src/iis/backup.js'
import { dropRestorePoint, takeRestorePoint, useRestorePoint } from '../src/iis/restore-point.js'
import type { ProcessResult, ProcessRunner } from '../src/process.js'
import { captureLog } from './support/iis-test-log.js'
import { tempDir } from './support/temp-dir.js'

const OLDER = 'django-iis-deploy-r0-20260101T000000000Z'
const NOW = new Date('2026-12-02T10:00:00.000Z')
const NAME = 'django-iis-deploy-r1-20261202T100000000Z'

function scripted(failing: (args: readonly string[]) => boolean = () => false) {
  const calls: string[] = []
  const runner: ProcessRunner = {
    run: async (_file, args): Promise<ProcessResult> => {
      calls.push(args.join(' '))
      return failing(args)
        ? { exitCode: 183, stdout: 'ERROR ( message:refused on purpose. )', stderr: '', durationMs: 1 }
        : { exitCode: 0, stdout: '', stderr: '', durationMs: 1 }
    }
  }
  return { runner, calls }
}

function setup(options: { record?: string[]; failing?: (args: readonly string[]) => boolean; after?: Promise<unknown> } = {}) {
  const recordFile = path.join(tempDir('restore-point-unit'), 'backups.json')
  const log = captureLog()
  if (options.record) writeBackupRecord(recordFile, options.record, log)
  const { runner, calls } = scripted(options.failing)
  const deps = { runner, log, appcmdPath: 'appcmd', recordFile }
  const point = takeRestorePoint({ ...deps, releaseId: 'r1', after: options.after ?? Promise.resolve() }, NOW)
  return { point, deps, calls, log, recordFile }
}

describe('the restore point', () => {
  it('waits for the IIS read, and takes nothing when the read fails', async () => {
    let failRead: (error: Error) => void = () => undefined
    const read = new Promise((_resolve, reject) => (failRead = reject))
    const { point, deps, calls } = setup({ after: read })
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(calls).toEqual([])
    failRead(new Error('no such site'))
    expect(await point.taken).toMatchObject({ added: false, error: { message: 'no such site' } })
    expect(await dropRestorePoint(point, deps)).toBeUndefined()
    expect(calls).toEqual([])
  })

  it('joins an existing record of our backups once taken, and creates none', async () => {
    const withRecord = setup({ record: [OLDER] })
    expect(await withRecord.point.taken).toEqual({ added: true })
    expect(withRecord.calls).toEqual([`add backup ${NAME}`])
    expect(readBackupRecord(withRecord.recordFile)).toEqual([NAME, OLDER])

    const without = setup()
    expect(await without.point.taken).toEqual({ added: true })
    expect(fs.existsSync(without.recordFile)).toBe(false)
  })

  it('is kept once apply used it, and deleted (and forgotten) when the run ends without it', async () => {
    const used = setup({ record: [OLDER] })
    await useRestorePoint(used.point)
    expect(await dropRestorePoint(used.point, used.deps)).toBeUndefined()
    expect(used.calls).toEqual([`add backup ${NAME}`])

    const unused = setup({ record: [OLDER] })
    expect(await dropRestorePoint(unused.point, unused.deps)).toBeUndefined()
    expect(unused.calls).toEqual([`add backup ${NAME}`, `delete backup ${NAME}`])
    expect(readBackupRecord(unused.recordFile)).toEqual([OLDER])
    expect(unused.log.lines).toContain(`info: Deleted IIS backup ${NAME}: this run made no IIS change for it to restore`)
  })

  it("hands apply the add's failure, and deletes nothing that was never added", async () => {
    const { point } = setup({ failing: args => args[0] === 'add' })
    await expect(useRestorePoint(point)).rejects.toThrow('refused on purpose')
    const other = setup({ record: [OLDER], failing: args => args[0] === 'add' })
    expect(await dropRestorePoint(other.point, other.deps)).toBeUndefined()
    expect(other.calls).toEqual([`add backup ${NAME}`])
    expect(readBackupRecord(other.recordFile)).toEqual([OLDER])
  })

  it('says so when the delete fails, and keeps the record naming the backup', async () => {
    const { point, deps, recordFile } = setup({ record: [OLDER], failing: args => args[0] === 'delete' })
    const warning = await dropRestorePoint(point, deps)
    expect(warning).toMatch(
      new RegExp(`^could not delete IIS backup ${NAME}, taken for a change this run did not make: .*refused on purpose`)
    )
    expect(readBackupRecord(recordFile)).toEqual([NAME, OLDER])
  })
})
