import { describe, expect, it } from 'vitest'
import { insideFolder, samePath } from '../src/windows-path.js'

describe('samePath compares paths the way Windows does', () => {
  it.each([
    ['C:/x', 'C:\\x'],
    ['C:\\Inetpub\\App', 'c:\\inetpub\\app'],
    ['C:\\x\\', 'C:\\x'],
    ['C:\\x\\\\y', 'C:\\x\\y'],
    ['C:\\x\\.\\y\\..\\z', 'C:\\x\\z'],
    ['C:\\', 'c:/'],
    ['\\\\server\\share\\d', '//SERVER/share/d/']
  ])('%s is %s', (a, b) => {
    expect(samePath(a, b)).toBe(true)
    expect(samePath(b, a)).toBe(true)
  })

  it.each([
    ['C:\\x', 'C:\\x2'],
    ['C:\\x', 'D:\\x'],
    ['C:\\x\\y', 'C:\\x']
  ])('%s is not %s', (a, b) => expect(samePath(a, b)).toBe(false))

  it('never takes a missing or empty path for a path', () => {
    expect(samePath(undefined, 'C:\\x')).toBe(false)
    expect(samePath('', '')).toBe(false)
    expect(samePath(undefined, undefined)).toBe(false)
  })
})

describe('insideFolder', () => {
  it('holds for paths strictly below the folder, in any spelling', () => {
    expect(insideFolder('C:\\d\\venvs', 'c:/D/venvs/abc/Scripts/python.exe')).toBe(true)
    expect(insideFolder('C:\\d\\venvs\\', 'C:\\d\\venvs\\abc')).toBe(true)
  })
  it('does not hold for the folder itself or a sibling sharing its prefix', () => {
    expect(insideFolder('C:\\d\\venvs', 'C:\\d\\venvs')).toBe(false)
    expect(insideFolder('C:\\d\\venvs', 'C:\\d\\venvs2\\abc')).toBe(false)
    expect(insideFolder('C:\\d\\venvs', 'C:\\other\\abc')).toBe(false)
  })
})
