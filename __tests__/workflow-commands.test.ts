/**
 * src/workflow-commands.ts speaks to the runner in place of @actions/core: each function must print and write
 * exactly what @actions/core's does, for the values that need escaping (%, CR, LF, ':' and ',' in properties).
 */
import * as core from '@actions/core'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as ours from '../src/workflow-commands.js'
import { tempDir } from './support/temp-dir.js'

const TRICKY = ['plain', '100% done', 'two\nlines', 'cr\r\nlf', 'a: b, c', '%0A is not a newline', '']

/** What `fn` writes to stdout, and what it returns or throws. */
async function printed<T>(fn: () => T | Promise<T>): Promise<{ out: string; value?: T; error?: string }> {
  const write = process.stdout.write.bind(process.stdout)
  let out = ''
  process.stdout.write = (chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  }
  try {
    const value = await fn()
    return { out, value }
  } catch (error) {
    return { out, error: (error as Error).message }
  } finally {
    process.stdout.write = write
  }
}

async function same(name: string, theirs: () => unknown, mine: () => unknown): Promise<void> {
  const a = await printed(theirs)
  const b = await printed(mine)
  expect({ out: b.out, error: b.error }, name).toEqual({ out: a.out, error: a.error })
}

const saved = { ...process.env }
const savedExitCode = process.exitCode
afterEach(() => {
  for (const key of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'INPUT_MY_INPUT', 'INPUT_PLAIN'])
    if (saved[key] === undefined) delete process.env[key]
    else process.env[key] = saved[key]
  process.exitCode = savedExitCode
})

describe('workflow commands, as @actions/core prints them', () => {
  it('refuses a summary outside a runner with the same message', async () => {
    // First in the file: @actions/core's summary keeps the path of its first successful write.
    delete process.env.GITHUB_STEP_SUMMARY
    const theirs = await printed(() => core.summary.addRaw('x').write())
    const mine = await printed(() => ours.summary.addRaw('x').write())
    expect(mine.error).toBeDefined()
    expect(mine.error).toBe(theirs.error)
    core.summary.emptyBuffer()
    ours.summary.emptyBuffer()
  })

  it('prints info, debug, warnings, errors and masks the same way', async () => {
    for (const text of TRICKY) {
      await same(
        `info ${JSON.stringify(text)}`,
        () => core.info(text),
        () => ours.info(text)
      )
      await same(
        `debug ${JSON.stringify(text)}`,
        () => core.debug(text),
        () => ours.debug(text)
      )
      await same(
        `add-mask ${JSON.stringify(text)}`,
        () => core.setSecret(text),
        () => ours.setSecret(text)
      )
      for (const props of [
        undefined,
        {},
        { title: text },
        { title: `T ${text}`, file: `C:\\app\\${text},x.py`, startLine: 7 },
        { startLine: 0 }
      ]) {
        const label = `${JSON.stringify(text)} ${JSON.stringify(props)}`
        await same(
          `warning ${label}`,
          () => core.warning(text, props),
          () => ours.warning(text, props)
        )
        await same(
          `error ${label}`,
          () => core.error(text, props),
          () => ours.error(text, props)
        )
      }
    }
  })

  it('opens and closes a group around the work, also when it throws', async () => {
    await same(
      'group',
      () => core.group('Stage: 50%\nnow', async () => 'done'),
      () => ours.group('Stage: 50%\nnow', async () => 'done')
    )
    const fail = async (): Promise<never> => {
      throw new Error('broke')
    }
    await same(
      'group that throws',
      () => core.group('g', fail),
      () => ours.group('g', fail)
    )
    expect((await printed(() => ours.group('g', async () => 42))).value).toBe(42)
  })

  it('fails the run: an error annotation and exit code 1', async () => {
    await same(
      'setFailed',
      () => core.setFailed('boom: a, b\nc'),
      () => ours.setFailed('boom: a, b\nc')
    )
    process.exitCode = 0
    ours.setFailed('again')
    expect(process.exitCode).toBe(1)
  })

  it('reads inputs from INPUT_ variables, trimmed', () => {
    process.env.INPUT_MY_INPUT = '  C:\\inetpub\\app  \n'
    process.env.INPUT_PLAIN = ''
    for (const name of ['my input', 'MY_INPUT', 'plain', 'absent']) expect(ours.getInput(name), name).toBe(core.getInput(name))
    expect(ours.getInput('my input')).toBe('C:\\inetpub\\app')
  })

  it('writes outputs to GITHUB_OUTPUT as @actions/core does, the delimiter aside', async () => {
    const dir = tempDir('workflow-outputs')
    const files = { theirs: path.join(dir, 'theirs'), mine: path.join(dir, 'mine') }
    for (const file of Object.values(files)) fs.writeFileSync(file, '')
    for (const text of TRICKY) {
      process.env.GITHUB_OUTPUT = files.theirs
      core.setOutput('out-1', text)
      process.env.GITHUB_OUTPUT = files.mine
      ours.setOutput('out-1', text)
    }
    const read = (file: string) => fs.readFileSync(file, 'utf8').replace(/ghadelimiter_[0-9a-f-]{36}/g, 'DELIMITER')
    expect(read(files.mine)).toBe(read(files.theirs))
    expect(read(files.mine)).toContain(['out-1<<DELIMITER', 'two', 'lines', 'DELIMITER', ''].join(os.EOL))
    // A file the runner did not create is an error for both.
    process.env.GITHUB_OUTPUT = path.join(dir, 'missing')
    await same(
      'missing output file',
      () => core.setOutput('a', 'b'),
      () => ours.setOutput('a', 'b')
    )
    expect(fs.existsSync(path.join(dir, 'missing'))).toBe(false)
    // Outside a runner: the set-output command.
    delete process.env.GITHUB_OUTPUT
    await same(
      'set-output command',
      () => core.setOutput('a', 'b: c\nd'),
      () => ours.setOutput('a', 'b: c\nd')
    )
  })

  it('appends the summary to GITHUB_STEP_SUMMARY and empties its buffer', async () => {
    const dir = tempDir('workflow-summary')
    for (const [who, summary] of [
      ['theirs', core.summary],
      ['mine', ours.summary]
    ] as const) {
      const file = path.join(dir, who)
      fs.writeFileSync(file, `before${os.EOL}`)
      process.env.GITHUB_STEP_SUMMARY = file
      await summary.addRaw('## Title: 100%', true).addRaw('| a | b |').write()
      await summary.addRaw('second', true).write()
    }
    expect(fs.readFileSync(path.join(dir, 'mine'), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'theirs'), 'utf8'))
    expect(fs.readFileSync(path.join(dir, 'mine'), 'utf8')).toBe(['before', '## Title: 100%', '| a | b |second', ''].join(os.EOL))
  })
})
