import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Appcmd, AppcmdError, classify, errorMessage, indexer, IndexerValueError, isListMiss } from '../src/iis/appcmd.js'
import { execRunner } from '../src/process.js'
import { captureLog } from './support/iis-test-log.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'appcmd-runner-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

/** A stand-in that prints what its first argument names and exits with the given code, recording argv. */
const fake = path.join(dir, 'appcmd')
fs.writeFileSync(
  fake,
  `#!/usr/bin/env node
const fs = require('node:fs')
const [mode, ...rest] = process.argv.slice(2)
fs.appendFileSync(${JSON.stringify(path.join(dir, 'argv.jsonl'))}, JSON.stringify(process.argv.slice(2)) + '\\n')
const out = {
  ok: ['APPPOOL object "P" added', 0],
  dup: ['ERROR ( message:Failed to add duplicate collection element "P". )', 183],
  site: ['ERROR ( message:Cannot find SITE object with identifier "Nope". )', 1168 % 256],
  element: ['ERROR ( message:Cannot find requested collection element. )', 4312 % 256],
  locked: ['ERROR ( hresult:80070020, message:Failed to commit configuration changes.\\nThe process cannot access the file because it is being used by another process. )', 32],
  echo: ['ERROR ( message:Unknown attribute "' + rest.join(' ') + '".  Replace with -? for help. )', 1],
  quiet: ['', 5],
  miss: ['', 1],
  missxml: ['<?xml version="1.0" encoding="UTF-8"?>\\n<appcmd />', 0],
  denied: ['ERROR ( hresult:80070005, message:Command execution failed.\\nAccess is denied. )', 5],
  oneerror: ['ERROR ( message:Configuration file is not well-formed XML )', 1],
  // A listing cut short: output that holds other apps' variables, and no ERROR line.
  leaky: ['<appcmd><CONFIG><application><environmentVariable name="OTHER_APP_TOKEN" value="other-app-secret-77" /></application>', 1]
}[mode]
process.stdout.write(out[0] + '\\n')
process.exit(out[1])
`,
  { mode: 0o755 }
)

describe('indexer', () => {
  it('builds the bracketed list', () => {
    expect(
      indexer([
        ['fullPath', 'C:\\a b\\python.exe'],
        ['arguments', 'x,y']
      ])
    ).toBe("[fullPath='C:\\a b\\python.exe',arguments='x,y']")
  })
  it.each(["it's", 'a]b', 'line\nbreak', 'cr\r'])('refuses %j', value => {
    expect(() => indexer([['value', value]], 'SECRET_KEY')).toThrow(IndexerValueError)
    expect(() => indexer([['value', value]], 'SECRET_KEY')).toThrow(/SECRET_KEY/)
  })
})

describe('ERROR parsing and classification', () => {
  it('takes the message out of a multi-line ERROR block', () => {
    const out =
      "ERROR ( message:New application object missing required attributes. Cannot add duplicate collection entry of type 'application' with combined key attributes 'fullPath, arguments' respectively set to 'C:\\p.exe, w.py'\n. )"
    expect(errorMessage(out)).toMatch(
      /^New application object missing required attributes\. Cannot add duplicate .* '\s?C:\\p\.exe, w\.py' \.$/
    )
    expect(classify(errorMessage(out)!, 183)).toBe('exists')
  })
  it('classifies by message before the exit code', () => {
    expect(classify('Cannot find SITE object with identifier "S".', 144)).toBe('notFound')
    expect(classify('Cannot find requested collection element.', 216)).toBe('missingElement')
    // A message that says nothing known falls back to the (possibly truncated) code.
    expect(classify('Something else', 216)).toBe('missingElement')
    expect(classify('Something else', 144)).toBe('notFound')
    expect(classify('Something else', 183)).toBe('exists')
    expect(classify('Something else', 7)).toBe('other')
  })
  it('has no message when stdout has no ERROR block', () => {
    expect(errorMessage('APP object "S/app" added')).toBeUndefined()
  })
})

describe('Appcmd', () => {
  it('runs argv without a shell, returns stdout and counts reads and writes', async () => {
    const log = captureLog()
    const appcmd = new Appcmd({ runner: execRunner, log, path: fake })
    await expect(appcmd.run({ argv: ['ok', 'a b', '$(touch x)', '>out'], mutates: true })).resolves.toContain('added')
    await appcmd.read('ok')
    expect(appcmd.writes).toBe(1)
    expect(appcmd.reads).toBe(1)
    const seen = fs
      .readFileSync(path.join(dir, 'argv.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(l => JSON.parse(l) as string[])
    expect(seen[0]).toEqual(['ok', 'a b', '$(touch x)', '>out'])
    expect(fs.existsSync(path.join(process.cwd(), 'x'))).toBe(false)
    expect(log.lines[0]).toMatch(/^info: appcmd ok "a b" "\$\(touch x\)" >out → exit 0 in \d+ ms$/)
  })

  it.each([
    ['dup', 'exists', 183],
    ['site', 'notFound', 144],
    ['element', 'missingElement', 216],
    ['locked', 'locked', 32],
    ['quiet', 'other', 5]
  ] as const)('turns %s into an AppcmdError of kind %s', async (mode, kind, code) => {
    const appcmd = new Appcmd({ runner: execRunner, log: captureLog(), path: fake })
    const err = await appcmd.read(mode).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AppcmdError)
    expect((err as AppcmdError).kind).toBe(kind)
    expect((err as AppcmdError).exitCode).toBe(code)
  })

  it('masks secret values in the log line and in the error', async () => {
    const log = captureLog()
    const appcmd = new Appcmd({ runner: execRunner, log, path: fake })
    const err = (await appcmd
      .run({ argv: ['echo', 'value:hunter2-secret'], mutates: true, secrets: ['hunter2-secret'] })
      .catch((e: unknown) => e)) as AppcmdError
    expect(err).toBeInstanceOf(AppcmdError)
    expect(err.message).not.toContain('hunter2-secret')
    expect(err.message).toContain('***')
    expect(log.lines.join('\n')).not.toContain('hunter2-secret')
    // Registered with the log, so later lines that quote it are masked as well.
    log.info('later: hunter2-secret')
    expect(log.lines.at(-1)).toBe('info: later: ***')
  })
})

describe('Appcmd reads that fail', () => {
  it('never put the listing into the error, where unmasked values of other apps could be', async () => {
    const log = captureLog()
    const appcmd = new Appcmd({ runner: execRunner, log, path: fake })
    const error = await appcmd.read('leaky').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AppcmdError)
    expect((error as Error).message).not.toContain('other-app-secret-77')
    expect((error as Error).message).toMatch(/no error message/)
    expect(log.lines.join('\n')).not.toContain('other-app-secret-77')
  })
})

const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'

describe('isListMiss: every plausible "no such object" answer of a list, and nothing else', () => {
  it.each([
    ['exit 1, no output (lextm/jexusmanager ListMissingSiteSilentlyFails)', 1, ''],
    ['exit 1, a line break only', 1, '\r\n'],
    ['exit 0, an empty <appcmd> element', 0, `${DECL}<appcmd>\n</appcmd>\n`],
    ['exit 0, <appcmd/>', 0, `${DECL}<appcmd/>\n`],
    ['exit 0, <appcmd />', 0, `${DECL}<appcmd />\n`],
    ['exit 1, an empty <appcmd> element', 1, `${DECL}<appcmd>\n</appcmd>\n`],
    ['1168 with Cannot find', 1168, 'ERROR ( message:Cannot find SITE object with identifier "S". )\n'],
    ['1168 seen as 144 on Linux', 144, 'ERROR ( message:Cannot find APPPOOL object with identifier "P". )\r\n']
  ])('%s: not found', (_name, exitCode, stdout) => {
    expect(isListMiss(exitCode, stdout)).toBe(true)
  })

  it.each([
    ['exit 1 with another ERROR', 1, 'ERROR ( message:Configuration file is not well-formed XML )\n'],
    [
      'config in use (32)',
      32,
      'ERROR ( hresult:80070020, message:Failed to commit configuration changes.\nThe process cannot access the file because it is being used by another process. )\n'
    ],
    ['access denied (5)', 5, 'ERROR ( hresult:80070005, message:Command execution failed.\nAccess is denied. )\n'],
    ['access denied without output', 5, ''],
    ['1168 without a message', 1168, ''],
    ['a missing collection element (4312)', 216, 'ERROR ( message:Cannot find requested collection element. )\n'],
    ['exit 1 with objects listed', 1, `${DECL}<appcmd>\n    <SITE SITE.NAME="S" />\n</appcmd>\n`]
  ])('%s: a failure, never "not found"', (_name, exitCode, stdout) => {
    expect(isListMiss(exitCode, stdout)).toBe(false)
  })
})

describe('Appcmd.list', () => {
  it('answers undefined for a miss and stdout for a find; throws on any other failure', async () => {
    const appcmd = new Appcmd({ runner: execRunner, log: captureLog(), path: fake })
    expect(await appcmd.list('miss')).toBeUndefined()
    expect(await appcmd.list('missxml')).toBeUndefined()
    expect(await appcmd.list('site')).toBeUndefined()
    expect(await appcmd.list('ok')).toBe('APPPOOL object "P" added\n')
    for (const [mode, kind] of [
      ['denied', 'other'],
      ['oneerror', 'other'],
      ['locked', 'locked'],
      ['quiet', 'other']
    ] as const) {
      const error = await appcmd.list(mode).catch((e: unknown) => e)
      expect(error, mode).toBeInstanceOf(AppcmdError)
      expect((error as AppcmdError).kind, mode).toBe(kind)
    }
    expect(appcmd.reads).toBe(8)
  })
})
