import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { lintAction, lintWorkflow } from './support/actions-lint.js'
import { workflowFiles } from './support/workflow-files.js'

const root = join(import.meta.dirname, '..')
const read = (rel: string): string => readFileSync(join(root, rel), 'utf8')
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML is navigated freely in assertions
const yamlOf = (rel: string): any => parse(read(rel))

const actionInputs = Object.keys(yamlOf('action.yml').inputs as Record<string, unknown>)
const actionOutputs = Object.keys(yamlOf('action.yml').outputs as Record<string, unknown>)

/** Every step of every job, with the file it is in. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function stepsOf(rel: string): { job: string; step: any }[] {
  const jobs = yamlOf(rel).jobs as Record<string, { steps?: unknown[] }>
  return Object.entries(jobs).flatMap(([job, def]) => (def.steps ?? []).map(step => ({ job, step })))
}

describe('workflow files pass GitHub’s workflow parser', () => {
  it('finds the workflows the project ships', () => {
    expect(workflowFiles()).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/check-dist.yml',
        '.github/workflows/codeql.yml',
        '.github/workflows/deploy.yml',
        '.github/workflows/e2e-windows.yml',
        '.github/workflows/release.yml',
        'examples/workflows/release-production.yml',
        'examples/workflows/staging-matrix.yml',
        'examples/workflows/pr-plan.yml',
        'examples/workflows/rollback.yml'
      ])
    )
  })

  it.each(workflowFiles())('%s has no errors', async rel => {
    expect(await lintWorkflow(rel, read(rel))).toEqual([])
  })

  it('action.yml has no errors', () => {
    expect(lintAction('action.yml', read('action.yml'))).toEqual([])
  })
})

describe('the linter really runs', () => {
  const valid = ['on: push', 'jobs:', '  build:', '    runs-on: ubuntu-latest', '    steps:', '      - run: echo hi', ''].join('\n')

  it('accepts a minimal valid workflow', async () => {
    expect(await lintWorkflow('valid.yml', valid)).toEqual([])
  })

  it('rejects an unknown job key', async () => {
    const broken = valid.replace('runs-on:', 'runs-onn:')
    const problems = await lintWorkflow('broken.yml', broken)
    expect(problems.map(p => p.message).join('\n')).toMatch(/runs-onn/)
  })

  it('rejects an unterminated expression', async () => {
    const broken = valid.replace('echo hi', 'echo ${{ github.sha')
    expect(await lintWorkflow('broken.yml', broken)).not.toEqual([])
  })

  it('rejects a context that is not allowed where it is used', async () => {
    // runs-on is evaluated before any step ran, so the steps context is not available there.
    const broken = valid.replace('ubuntu-latest', '${{ steps.x.outputs.labels }}')
    const problems = await lintWorkflow('broken.yml', broken)
    expect(problems.map(p => p.message).join('\n')).toMatch(/steps/)
  })

  it('rejects an action.yml with an unknown runtime', () => {
    const broken = read('action.yml').replace('using: node24', 'using: node99')
    expect(lintAction('action.yml', broken)).not.toEqual([])
  })
})

describe('steps that run this action use only its inputs and outputs', () => {
  const localUses = workflowFiles().flatMap(rel =>
    stepsOf(rel)
      .filter(({ step }) => step.uses === './' || step.uses === './.django-iis-deploy')
      .map(({ job, step }) => ({ rel, job, step }))
  )

  it('has such steps', () => {
    expect(localUses.length).toBeGreaterThan(0)
  })

  it.each(localUses.map(u => [`${u.rel} ${u.step.name ?? u.step.id}`, u] as const))('%s', (_label, u) => {
    const unknown = Object.keys(u.step.with ?? {}).filter(k => !actionInputs.includes(k))
    expect(unknown).toEqual([])
    // Required inputs without defaults must be given.
    expect(Object.keys(u.step.with ?? {})).toEqual(expect.arrayContaining(['deploy-root', 'app-path']))
  })

  it('workflows read only outputs the action declares', () => {
    const used = workflowFiles().flatMap(rel =>
      [...read(rel).matchAll(/steps\.(?:deploy|first|again|broken|failing|plan)\.outputs\.([\w-]+)/g)].map(m => m[1])
    )
    expect(used.length).toBeGreaterThan(0)
    expect(used.filter(o => !actionOutputs.includes(o))).toEqual([])
  })
})

describe('the reusable deploy workflow', () => {
  const wf = yamlOf('.github/workflows/deploy.yml')
  const call = wf.on.workflow_call
  const job = wf.jobs.deploy

  it('runs on the caller’s labels, in the caller’s environment, one deploy per target at a time', () => {
    expect(job['runs-on']).toBe('${{ fromJSON(inputs.runner-labels) }}')
    expect(job.environment).toBe('${{ inputs.environment }}')
    expect(job.concurrency['cancel-in-progress']).toBe(false)
    for (const key of ['inputs.runner-labels', 'inputs.site-name', 'inputs.app-path']) {
      expect(job.concurrency.group).toContain(key)
    }
  })

  it('exposes every action output, wired from the action step', () => {
    expect(Object.keys(call.outputs).sort()).toEqual([...actionOutputs].sort())
    for (const name of actionOutputs) {
      expect(call.outputs[name].value).toBe(`\${{ jobs.deploy.outputs.${name} }}`)
      expect(job.outputs[name]).toBe(`\${{ steps.deploy.outputs.${name} }}`)
    }
  })

  it('passes each of its inputs to the action under the same name, and secret-env from a secret', () => {
    const step = job.steps.find((s: { id?: string }) => s.id === 'deploy')
    expect(step.uses).toBe('./.django-iis-deploy')
    const targetOnly = ['runner-labels', 'environment']
    for (const name of Object.keys(call.inputs).filter(n => !targetOnly.includes(n))) {
      expect(actionInputs).toContain(name)
      expect(step.with[name]).toBe(`\${{ inputs.${name} }}`)
    }
    expect(step.with['secret-env']).toBe('${{ secrets.SECRET_ENV }}')
    expect(Object.keys(call.secrets)).toEqual(['SECRET_ENV'])
  })

  it('mirrors the action’s defaults and required inputs', () => {
    const action = yamlOf('action.yml').inputs
    for (const [name, input] of Object.entries<{ default?: unknown; required?: boolean }>(call.inputs)) {
      if (!(name in action)) continue
      if (action[name].required) expect(input.required).toBe(true)
      else expect(String(input.default)).toBe(String(action[name].default))
    }
  })

  it('checks out the action at the commit of the workflow file, not the caller’s', () => {
    const checkout = job.steps.find((s: { with?: { path?: string } }) => s.with?.path === '.django-iis-deploy')
    expect(checkout.uses).toMatch(/^actions\/checkout@/)
    expect(checkout.with.repository).toBe('${{ job.workflow_repository }}')
    expect(checkout.with.ref).toBe('${{ job.workflow_sha || github.job_workflow_sha }}')
    // The action step comes after that checkout.
    const ids = job.steps.map((s: { id?: string; with?: { path?: string } }) => s.id ?? s.with?.path)
    expect(ids.indexOf('deploy')).toBeGreaterThan(ids.indexOf('.django-iis-deploy'))
  })
})

describe('examples that call the reusable workflow', () => {
  const deployInputs = yamlOf('.github/workflows/deploy.yml').on.workflow_call.inputs as Record<string, { required?: boolean }>
  const required = Object.entries(deployInputs)
    .filter(([, i]) => i.required)
    .map(([n]) => n)
  const callers = readdirSync(join(root, 'examples/workflows'))
    .map(f => `examples/workflows/${f}`)
    .flatMap(rel =>
      Object.entries(yamlOf(rel).jobs as Record<string, { uses?: string; with?: Record<string, unknown> }>)
        .filter(([, j]) => j.uses?.includes('/.github/workflows/deploy.yml@'))
        .map(([id, j]) => [`${rel} ${id}`, j] as const)
    )

  it('exist', () => {
    expect(callers.length).toBeGreaterThanOrEqual(2)
  })

  it.each(callers)('%s passes only known inputs and every required one', (_label, j) => {
    const given = Object.keys(j.with ?? {})
    expect(given.filter(k => !(k in deployInputs))).toEqual([])
    expect(given).toEqual(expect.arrayContaining(required))
  })

  it('the staging matrix rolls out one server at a time and stops at the first failure', () => {
    const strategy = yamlOf('examples/workflows/staging-matrix.yml').jobs.deploy.strategy
    expect(strategy['max-parallel']).toBe(1)
    expect(strategy['fail-fast']).toBe(true)
  })

  it('the production deploy runs on published releases', () => {
    expect(yamlOf('examples/workflows/release-production.yml').on.release.types).toEqual(['published'])
  })

  it('the rollback example runs by hand against one chosen environment, in rollback mode', () => {
    const wf = yamlOf('examples/workflows/rollback.yml')
    expect(Object.keys(wf.on)).toEqual(['workflow_dispatch'])
    expect(wf.on.workflow_dispatch.inputs.environment.type).toBe('choice')
    expect(wf.on.workflow_dispatch.inputs['release-id'].default).toBe('')
    const job = wf.jobs.rollback
    expect(job.with.mode).toBe('rollback')
    expect(job.with.environment).toBe('${{ inputs.environment }}')
    expect(job.with['release-id']).toBe('${{ inputs.release-id }}')
  })

  it('the pull-request example plans only', () => {
    const steps = stepsOf('examples/workflows/pr-plan.yml').map(s => s.step)
    expect(steps.find(s => s.id === 'plan').with.mode).toBe('plan')
  })
})

describe('external actions are pinned to a commit', () => {
  // A tag can be moved to other code, a full commit SHA cannot; the comment keeps the version readable, and
  // Dependabot updates both together.
  const pinned = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(?:\.\d+){0,2}$/
  // The examples call the user's own copy of this project, at the major tag the README recommends.
  const ownProject = /^[\w.-]+\/django-iis-deploy(?:\/|@)/

  /** The value of every `uses:` line, with its comment (which parsing the YAML would drop). */
  const usesLines = (text: string): string[] =>
    text.split('\n').flatMap(line => {
      const match = /^\s*(?:-\s+)?uses:\s*(.+?)\s*$/.exec(line)
      return match?.[1] ? [match[1]] : []
    })
  const unpinned = (text: string): string[] => usesLines(text).filter(u => !u.startsWith('./') && !ownProject.test(u) && !pinned.test(u))

  it.each(workflowFiles())('%s pins every external action by full SHA with its version', rel => {
    expect(unpinned(read(rel))).toEqual([])
  })

  it.each(workflowFiles())('%s: the line scan sees every uses: the YAML has', rel => {
    const jobs = Object.values(yamlOf(rel).jobs as Record<string, { uses?: string }>)
    const parsed = [...jobs.flatMap(j => (j.uses ? [j.uses] : [])), ...stepsOf(rel).flatMap(({ step }) => (step.uses ? [step.uses] : []))]
    const scanned = usesLines(read(rel)).map(u => u.replace(/\s+#.*$/, ''))
    expect(scanned.sort()).toEqual(parsed.sort())
  })

  it('gives one commit one version everywhere', () => {
    const versions = new Map<string, Set<string>>()
    const lines = workflowFiles().flatMap(rel => usesLines(read(rel)))
    for (const line of lines.filter(u => pinned.test(u))) {
      const [, sha, version] = /@([0-9a-f]{40}) # (\S+)$/.exec(line) as RegExpExecArray
      versions.set(sha, (versions.get(sha) ?? new Set()).add(version))
    }
    expect(versions.size).toBeGreaterThan(0)
    expect([...versions].filter(([, v]) => v.size > 1)).toEqual([])
  })

  it('rejects a tag, a short SHA, a SHA without its version and a branch', () => {
    const sha = 'd23441a48e516b6c34aea4fa41551a30e30af803'
    const steps = [
      `      - uses: actions/checkout@${sha} # v6.1.0`,
      '      - uses: actions/checkout@v6',
      `      - uses: actions/checkout@${sha.slice(0, 7)} # v6.1.0`,
      `      - uses: actions/setup-node@${sha}`,
      '        uses: github/codeql-action/init@main',
      '        uses: ./',
      '    uses: your-org/django-iis-deploy/.github/workflows/deploy.yml@v1'
    ].join('\n')
    expect(unpinned(steps)).toEqual([
      'actions/checkout@v6',
      `actions/checkout@${sha.slice(0, 7)} # v6.1.0`,
      `actions/setup-node@${sha}`,
      'github/codeql-action/init@main'
    ])
  })
})
