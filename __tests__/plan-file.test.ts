import { describe, expect, it } from 'vitest'
import { Redactor } from '../src/masking.js'
import { planJson, planText, type PlanDocument } from '../src/plan/plan-file.js'

function plan(secret: string): PlanDocument {
  return {
    target: { site: 'Default Web Site', appPath: '/app', pool: 'P', deployRoot: 'C:\\d', hosting: 'fastcgi' },
    mode: 'plan',
    release: 'r1',
    diffedAgainstServer: false,
    operations: [
      {
        phase: 'before-switch',
        tool: 'appcmd',
        argv: ['set', 'config', `/+[fullPath='x',arguments='y'].environmentVariables.[name='K',value='${secret}']`],
        why: 'FastCGI: add K = a secret value',
        mutates: true,
        secrets: [secret]
      }
    ],
    files: []
  }
}

describe('plan.json and the printed plan', () => {
  it.each([
    ['with a quote and a backslash', 'pa"ss\\word'],
    // Shorter secrets cannot reach a plan: secret-env refuses them (one length rule, MIN_SECRET_LENGTH).
    ['of the shortest length masked', 'q7x']
  ])('never hold a secret %s', (_name, secret) => {
    const redactor = new Redactor()
    redactor.add(secret)
    const json = planJson(plan(secret), text => redactor.redact(text))
    const parsed = JSON.parse(json)
    expect(JSON.stringify(parsed)).not.toContain(secret.replace(/\\/g, '\\\\').replace(/"/g, '\\"'))
    expect(parsed.operations[0].argv[2]).toBe("/+[fullPath='x',arguments='y'].environmentVariables.[name='K',value='***']")
    expect(parsed.operations[0].secrets).toBeUndefined()
    expect(planText(plan(secret), text => redactor.redact(text))).not.toContain(`value='${secret}'`)
  })
})
