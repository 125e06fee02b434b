import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { claimDeployRoot, CLAIM_FILE } from '../src/deploy-root-claim.js'
import { InputError } from '../src/errors.js'
import { tempDir } from './support/temp-dir.js'

const a = { site: 'Default Web Site', appPath: '/a' }
const b = { site: 'Default Web Site', appPath: '/b' }

function refusal(root: string, target: typeof a): InputError {
  try {
    claimDeployRoot(root, target)
  } catch (e) {
    expect(e).toBeInstanceOf(InputError)
    return e as InputError
  }
  throw new Error('expected the deploy-root to be refused')
}

describe('one deploy-root, one app', () => {
  it('records the first app that deploys there, and lets it deploy again whatever the case', () => {
    const root = path.join(tempDir('claim'), 'root')
    claimDeployRoot(root, a)
    expect(JSON.parse(fs.readFileSync(path.join(root, CLAIM_FILE), 'utf8'))).toEqual(a)
    expect(() => claimDeployRoot(root, { site: 'default web site', appPath: '/A' })).not.toThrow()
  })

  it('refuses another app, naming deploy-root, the owner and the fix, and writes nothing', () => {
    const root = tempDir('claim')
    claimDeployRoot(root, a)
    const before = fs.readdirSync(root)
    const error = refusal(root, b)
    expect(error.message).toBe(
      `Input 'deploy-root': ${root} holds the releases of Default Web Site/a, not Default Web Site/b: give each app its own deploy-root ` +
        `(or delete ${path.join(root, CLAIM_FILE)} if Default Web Site/a no longer deploys there)`
    )
    // The same app path on another site is another app too.
    expect(refusal(root, { site: 'Intranet', appPath: '/a' }).input).toBe('deploy-root')
    expect(fs.readdirSync(root)).toEqual(before)
    expect(JSON.parse(fs.readFileSync(path.join(root, CLAIM_FILE), 'utf8'))).toEqual(a)
  })

  it('refuses a claim file that names no app rather than guess', () => {
    const root = tempDir('claim')
    fs.writeFileSync(path.join(root, CLAIM_FILE), 'garbage')
    expect(refusal(root, a).message).toMatch(
      /deploy-target\.json does not say which app deploys to .*; delete it if only Default Web Site\/a deploys there/
    )
  })
})
