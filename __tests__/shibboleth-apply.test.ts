import fs from 'node:fs'
import path from 'node:path'
import { beforeEach, describe, expect, test } from 'vitest'
import { PhaseError } from '../src/errors.js'
import { execRunner } from '../src/process.js'
import { TemplateSet } from '../src/render/templates.js'
import { applyShibboleth, type ShibbolethApplyOptions } from '../src/shibboleth/apply.js'
import { checkArgv, checkShibbolethConfig, checksOtherFile, DEFAULT_CHECK, SP_DEFAULT_CONFIG } from '../src/shibboleth/check.js'
import type { ShibbolethWant } from '../src/shibboleth/patch.js'
import { planShibboleth } from '../src/shibboleth/plan.js'
import { captureLog, type CapturedLog } from './support/iis-test-log.js'
import { FIXTURES, ourParts, SHIBD_CHECK, tempDir } from './support/shibboleth-support.js'

const want: ShibbolethWant = { siteId: 3, host: 'apps.example.edu', appPath: '/app', remoteUser: ['eppn'] }

let dir: string
let configPath: string
let net: string
let log: CapturedLog

const netCalls = (): string[] => {
  const file = path.join(dir, 'net-calls.log')
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : []
}
const backups = (): string[] => fs.readdirSync(dir).filter(f => f.endsWith('.bak'))

function options(extra: Partial<ShibbolethApplyOptions> = {}): ShibbolethApplyOptions {
  return {
    configPath,
    site: 'Default Web Site',
    want,
    check: SHIBD_CHECK,
    service: 'shibd_Default',
    net,
    runner: execRunner,
    log,
    templates: new TemplateSet(),
    ...extra
  }
}

beforeEach(() => {
  dir = tempDir('shib-apply-')
  configPath = path.join(dir, 'shibboleth2.xml')
  fs.copyFileSync(path.join(FIXTURES, 'iis-bom-crlf.xml'), configPath)
  net = path.join(dir, 'net')
  fs.copyFileSync(path.join(FIXTURES, 'net-double.sh'), net)
  fs.chmodSync(net, 0o755)
  log = captureLog()
})

describe('applyShibboleth', () => {
  test('backs the file up byte for byte, writes the patch, checks it with shibd and restarts the service', async () => {
    const original = fs.readFileSync(configPath)
    const applied = await applyShibboleth(options({ now: () => new Date('2025-03-04T05:06:07Z') }))
    expect(applied.changed).toBe(true)
    expect(applied.backupPath).toBe(`${configPath}.20250304-050607.bak`)
    expect(fs.readFileSync(applied.backupPath).equals(original)).toBe(true)
    const written = fs.readFileSync(configPath)
    expect(written.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true)
    expect(ourParts(written.toString('utf8'), want).paths).toHaveLength(1)
    expect((await checkShibbolethConfig(execRunner, SHIBD_CHECK, configPath)).exitCode).toBe(0)
    expect(netCalls()).toEqual(['stop shibd_Default', 'start shibd_Default'])
    expect(applied.diff).toContain('+                <Path name="app" authType="shibboleth" requireSession="true"/>')
    expect(fs.readdirSync(dir).filter(f => f.endsWith('.tmp'))).toEqual([])
  })

  test('keeps the newest keep-backups backups of its own and leaves other files alone', async () => {
    for (const stamp of ['20240101-000000', '20240102-000000', '20240103-000000']) fs.writeFileSync(`${configPath}.${stamp}.bak`, stamp)
    fs.writeFileSync(`${configPath}.hand-made.bak`, 'not ours')
    const applied = await applyShibboleth(options({ now: () => new Date('2025-03-04T05:06:07Z'), keepBackups: 2 }))
    expect(backups().sort()).toEqual([
      'shibboleth2.xml.20240103-000000.bak',
      'shibboleth2.xml.20250304-050607.bak',
      'shibboleth2.xml.hand-made.bak'
    ])
    expect(fs.existsSync(applied.backupPath)).toBe(true)
  })

  test('a second run with the same inputs writes nothing, backs up nothing and restarts nothing', async () => {
    await applyShibboleth(options())
    const after = fs.readFileSync(configPath)
    const stat = fs.statSync(configPath)
    const again = await applyShibboleth(options())
    expect(again.changed).toBe(false)
    expect(again.backupPath).toBe('')
    expect(fs.readFileSync(configPath).equals(after)).toBe(true)
    expect(fs.statSync(configPath).ino).toBe(stat.ino)
    expect(fs.statSync(configPath).mtimeMs).toBe(stat.mtimeMs)
    expect(backups()).toHaveLength(1)
    expect(netCalls()).toEqual(['stop shibd_Default', 'start shibd_Default'])
  })

  test('restore() puts the original back and restarts the service, once', async () => {
    const original = fs.readFileSync(configPath)
    const applied = await applyShibboleth(options())
    await applied.restore()
    await applied.restore()
    expect(fs.readFileSync(configPath).equals(original)).toBe(true)
    expect(netCalls()).toEqual(['stop shibd_Default', 'start shibd_Default', 'stop shibd_Default', 'start shibd_Default'])
  })

  test('a config the SP rejects is restored byte for byte, the service is left alone and the error quotes the checker', async () => {
    // Well-formed XML that shibd refuses: an existing Path (not ours) with an invalid boolean.
    const bad = fs.readFileSync(configPath, 'utf8').replace('requireSession="false" />', 'requireSession="maybe" />')
    fs.writeFileSync(configPath, bad)
    const original = fs.readFileSync(configPath)
    const error = await applyShibboleth(options()).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(PhaseError)
    expect((error as PhaseError).phase).toBe('shibboleth')
    expect((error as PhaseError).message).toMatch(
      /the Shibboleth SP rejected the patched .*shibboleth2\.xml \(shibd -t -c .* exited \d+\); the original was restored from .*\.bak/
    )
    expect((error as PhaseError).message).toContain("value 'maybe' is invalid boolean")
    expect(fs.readFileSync(configPath).equals(original)).toBe(true)
    expect(netCalls()).toEqual([])
  })

  test('a broken file is refused before anything is written', async () => {
    fs.writeFileSync(configPath, '<SPConfig xmlns="urn:mace:shibboleth:3.0:native:sp:config"><InProcess>')
    await expect(applyShibboleth(options())).rejects.toThrow(/Input 'shibboleth-config'.*not well-formed XML/)
    expect(backups()).toEqual([])
    expect(netCalls()).toEqual([])
  })

  test('a missing checker program counts as a failed check and restores the file', async () => {
    const original = fs.readFileSync(configPath)
    await expect(applyShibboleth(options({ check: [path.join(dir, 'no-such-shibd'), '-check'] }))).rejects.toThrow(/could not run/)
    expect(fs.readFileSync(configPath).equals(original)).toBe(true)
  })

  test('a service that cannot be restarted fails the step with the original config back in place', async () => {
    const original = fs.readFileSync(configPath)
    await expect(applyShibboleth(options({ service: 'missing_service' }))).rejects.toThrow(
      /'.*net stop missing_service' failed \(exit 2\): The service name is invalid/
    )
    expect(fs.readFileSync(configPath).equals(original)).toBe(true)
  })

  test('a stopped service is started all the same', async () => {
    fs.writeFileSync(path.join(dir, 'state-shibd_Default'), 'stopped\n')
    await applyShibboleth(options())
    expect(fs.readFileSync(path.join(dir, 'state-shibd_Default'), 'utf8').trim()).toBe('started')
  })

  test('with no file, a fresh one is written from the template, checked, and removed again by restore()', async () => {
    fs.rmSync(configPath)
    const applied = await applyShibboleth(options())
    expect(applied.backupPath).toBe('')
    expect((await checkShibbolethConfig(execRunner, SHIBD_CHECK, configPath)).exitCode).toBe(0)
    await applied.restore()
    expect(fs.existsSync(configPath)).toBe(false)
  })

  test('a UTF-16 file (Notepad\'s "Unicode") is written back as UTF-16 and still passes the checker', async () => {
    const utf16 = Buffer.from(fs.readFileSync(configPath, 'utf8').replace('encoding="UTF-8"', 'encoding="UTF-16"'), 'utf16le')
    fs.writeFileSync(configPath, utf16)
    await applyShibboleth(options())
    const written = fs.readFileSync(configPath)
    expect([written[0], written[1]]).toEqual([0xff, 0xfe])
    expect(ourParts(written.toString('utf16le'), want).paths).toHaveLength(1)
    expect((await checkShibbolethConfig(execRunner, SHIBD_CHECK, configPath)).exitCode).toBe(0)
  })
})

describe('the SP check command', () => {
  test('by default checks the patched file: shibd.exe -check -config <shibboleth-config>, the path one argument', () => {
    expect(DEFAULT_CHECK).toBe('C:\\opt\\shibboleth-sp\\sbin64\\shibd.exe -check -config {config}')
    const action = fs.readFileSync(path.join(import.meta.dirname, '..', 'action.yml'), 'utf8')
    expect(action).toContain('default: "C:\\\\opt\\\\shibboleth-sp\\\\sbin64\\\\shibd.exe -check -config {config}"')
    expect(checkArgv(DEFAULT_CHECK.split(' '), 'D:\\Shib SP\\shibboleth2.xml')).toEqual([
      'C:\\opt\\shibboleth-sp\\sbin64\\shibd.exe',
      '-check',
      '-config',
      'D:\\Shib SP\\shibboleth2.xml'
    ])
  })

  test("a command without {config} is named when shibboleth-config is not the SP's default file", () => {
    expect(checksOtherFile(['shibd.exe', '-check'], 'D:\\sp\\shibboleth2.xml')).toMatch(
      /names no \{config\}: it checks the SP's default .*, not D:\\sp\\shibboleth2\.xml; add -config \{config\}/
    )
    expect(checksOtherFile(['shibd.exe', '-check'], SP_DEFAULT_CONFIG.toUpperCase().replace(/\\/g, '/'))).toBeUndefined()
    expect(checksOtherFile(DEFAULT_CHECK.split(' '), 'D:\\sp\\shibboleth2.xml')).toBeUndefined()
  })

  test('apply warns about such a command before it writes', async () => {
    await applyShibboleth(options({ check: ['shibd', '-t'] }))
    expect(log.lines.filter(l => l.startsWith('warning:'))).toEqual([
      expect.stringMatching(/^warning: shibboleth-check \(shibd -t\) names no \{config\}/)
    ])
  })
})

describe('planShibboleth', () => {
  test('writes the patched file to the output folder with a diff and the operations, leaving the server file alone', () => {
    const original = fs.readFileSync(configPath)
    const outputDir = path.join(dir, 'out')
    const plan = planShibboleth(
      { configPath, site: 'Default Web Site', want, check: ['shibd.exe', '-check', '-config', '{config}'], service: 'shibd_Default' },
      outputDir,
      new TemplateSet()
    )
    expect(plan.changed).toBe(true)
    expect(plan.outputPath).toBe(path.join(outputDir, 'shibboleth2.xml'))
    expect(ourParts(fs.readFileSync(plan.outputPath, 'utf8'), want).paths).toHaveLength(1)
    expect(plan.diff).toMatch(/^--- a\/shibboleth2\.xml\n\+\+\+ b\/shibboleth2\.xml\n@@ -\d+,\d+ \+\d+,\d+ @@/)
    expect([...plan.operations, ...plan.recycleOperations].map(o => o.argv.join(' '))).toEqual([
      `copy ${configPath} ${configPath}.<timestamp>.bak`,
      `write ${configPath}`,
      `shibd.exe -check -config ${configPath}`,
      'net stop shibd_Default',
      'net start shibd_Default',
      // Site 3 is new to <ISAPI>: the site's IIS workers must start again to map it.
      'list apps /site.name:Default Web Site',
      'recycle apppool /apppool.name:<each pool listed>'
    ])
    expect(plan.recycleOperations.at(-1)?.why).toMatch(
      /^the <ISAPI> site list changed: the Shibboleth IIS module reads <ISAPI> once per worker process/
    )
    expect(fs.readFileSync(configPath).equals(original)).toBe(true)
  })
})
