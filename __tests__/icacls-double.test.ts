import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createIisSandbox, type IisSandbox } from './support/iis-sandbox.js'
import { runDouble } from './support/run-double.js'

let box: IisSandbox
let app: string
const icacls = (...argv: string[]) => runDouble(box.icaclsPath, argv, box.env)

beforeEach(() => {
  box = createIisSandbox()
  app = join(box.dir, 'site', 'app')
  mkdirSync(join(app, 'static'), { recursive: true })
  writeFileSync(join(app, 'manage.py'), '')
})
afterEach(() => box.cleanup())

describe('icacls double', () => {
  it('records a grant and prints what icacls prints for one file', async () => {
    const res = await icacls(app, '/grant', 'IIS AppPool\\DjangoPool:(OI)(CI)RX', '/C')
    expect(res).toEqual({
      exitCode: 0,
      stdout: `processed file: ${app}\nSuccessfully processed 1 files; Failed processing 0 files\n`,
      stderr: ''
    })
    expect(box.aclGrants()).toEqual([
      { path: app, action: 'grant', principal: 'IIS AppPool\\DjangoPool', perm: '(OI)(CI)RX', recursive: false, flags: ['C'] }
    ])
  })

  it('walks the tree with /T and stays silent about each file with /Q', async () => {
    const all = await icacls(app, '/grant', 'IIS AppPool\\DjangoPool:(OI)(CI)RX', '/T')
    expect(all.stdout.split('\n').filter(l => l.startsWith('processed file: '))).toHaveLength(3)
    expect(all.stdout).toContain('Successfully processed 3 files; Failed processing 0 files\n')
    const quiet = await icacls(app, '/grant', 'IIS AppPool\\DjangoPool:M', '/T', '/Q')
    expect(quiet.stdout).toBe('Successfully processed 3 files; Failed processing 0 files\n')
  })

  it('exits 2 for a missing path and records nothing', async () => {
    const missing = join(box.dir, 'nope')
    const res = await icacls(missing, '/grant', 'IIS AppPool\\DjangoPool:RX')
    expect(res.exitCode).toBe(2)
    expect(res.stderr).toBe(`${missing}: The system cannot find the file specified.\n`)
    expect(res.stdout).toBe('Successfully processed 0 files; Failed processing 1 files\n')
    expect(box.aclGrants()).toEqual([])
  })

  it('refuses a permission icacls would not parse', async () => {
    const res = await icacls(app, '/grant', 'IIS AppPool\\DjangoPool:(OI)(CI)XYZ')
    expect(res.exitCode).toBe(87)
    expect(box.aclGrants()).toEqual([])
  })

  it('prints the recorded ACL in icacls shape, merging grants and honouring /remove', async () => {
    await icacls(app, '/grant', 'IIS AppPool\\DjangoPool:(OI)(CI)RX')
    await icacls(app, '/grant', 'IIS AppPool\\DjangoPool:(OI)(CI)W')
    await icacls(app, '/grant', 'IIS AppPool\\Other:R')
    const pad = ' '.repeat(app.length + 1)
    expect((await icacls(app)).stdout).toBe(
      `${app} IIS AppPool\\DjangoPool:(OI)(CI)(RX,W)\n` +
        `${pad}IIS AppPool\\Other:(R)\n` +
        `${pad}NT AUTHORITY\\SYSTEM:(I)(OI)(CI)(F)\n` +
        `${pad}BUILTIN\\Administrators:(I)(OI)(CI)(F)\n` +
        '\nSuccessfully processed 1 files; Failed processing 0 files\n'
    )
    await icacls(app, '/remove', 'IIS AppPool\\Other')
    expect((await icacls(app)).stdout).not.toContain('Other')
    expect(box.aclGrants().map(g => g.action)).toEqual(['grant', 'grant', 'grant', 'remove'])
  })

  it('keeps only the explicit entries after /inheritance:r', async () => {
    await icacls(app, '/grant', 'IIS AppPool\\DjangoPool:(OI)(CI)RX')
    expect((await icacls(app, '/inheritance:r')).exitCode).toBe(0)
    const listed = (await icacls(app)).stdout
    expect(listed).toContain('IIS AppPool\\DjangoPool:(OI)(CI)(RX)')
    expect(listed).not.toContain('(I)')
    expect(box.aclGrants().map(g => g.action)).toEqual(['grant', 'inheritance:r'])
  })

  it('shows a recursive grant on a child folder', async () => {
    await icacls(app, '/grant', 'IIS AppPool\\DjangoPool:(OI)(CI)RX', '/T')
    expect((await icacls(join(app, 'static'))).stdout).toContain('IIS AppPool\\DjangoPool:(OI)(CI)(RX)')
  })
})
