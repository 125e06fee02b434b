import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { AppcmdError, Appcmd } from '../src/iis/appcmd.js'
import { run, type RunDeps } from '../src/main.js'
import { planJson, planText, type PlanDocument } from '../src/plan/plan-file.js'
import { execRunner, type ProcessRunner } from '../src/process.js'
import { parseXmlStrict } from '../src/render/xml.js'
import { TemplateSet } from '../src/render/templates.js'
import { captureLog } from './support/iis-test-log.js'
import { EXAMPLE_APP } from './support/run-action.js'
import { tempDir } from './support/temp-dir.js'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'

const SECRET = 'pa"ss word'
/** Each form of SECRET the action could print: none may appear anywhere. */
const LEAKS = [SECRET, 'pa\\"ss word', 'pa%22ss%20word', 'pa&quot;ss word', 'pa\\"ss']

let tmp: string
beforeAll(() => {
  tmp = tempDir('hostile-values')
})

function xmllint(text: string): number {
  const file = path.join(tmp, `lint-${Math.random().toString(36).slice(2)}.xml`)
  fs.writeFileSync(file, text)
  return spawnSync('xmllint', ['--noout', file]).status ?? -1
}

describe('a secret with " in every printed form', () => {
  it('is masked in the appcmd log line and in the error appcmd raises', async () => {
    const log = captureLog()
    const runner: ProcessRunner = {
      run: async () => ({
        exitCode: 183,
        stdout: `ERROR ( message:Cannot add duplicate entry with value '${SECRET}' )`,
        stderr: '',
        durationMs: 1
      })
    }
    const appcmd = new Appcmd({ runner, log, path: 'appcmd' })
    const argv = [
      'set',
      'config',
      '-section:system.webServer/fastCgi',
      `/+[fullPath='x'].environmentVariables.[name='S',value='${SECRET}']`
    ]
    const error = await appcmd.run({ argv, mutates: true, secrets: [SECRET] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AppcmdError)
    const texts = [...log.lines, (error as Error).message]
    expect(texts.join('\n')).toContain("value='***'")
    for (const text of texts) for (const leak of LEAKS) expect(text).not.toContain(leak)
  })

  it('is masked in plan.json and the plan text', () => {
    const plan: PlanDocument = {
      target: { site: 'S', appPath: '/app', pool: 'P', deployRoot: 'C:\\d', hosting: 'fastcgi' },
      mode: 'plan',
      release: 'r1',
      diffedAgainstServer: false,
      operations: [
        {
          phase: 'before-switch',
          tool: 'appcmd',
          argv: ['set', `/[name='S',value='${SECRET}']`],
          why: 'x',
          mutates: true,
          secrets: [SECRET]
        }
      ],
      files: []
    }
    for (const text of [planJson(plan, t => t), planText(plan, t => t)]) for (const leak of LEAKS) expect(text).not.toContain(leak)
  })
})

async function planRun(
  over: Record<string, string>
): Promise<{ text: string; outputs: Record<string, string>; failures: string[]; outputDir: string }> {
  const inputs: Record<string, string> = {
    mode: 'plan',
    'app-dir': EXAMPLE_APP,
    'deploy-root': 'C:\\inetpub\\wwwroot\\hello',
    'app-path': '/app',
    'release-id': 'r1',
    python: SYSTEM_PYTHON,
    'output-dir': path.join(tmp, `out-${Math.random().toString(36).slice(2)}`),
    ...over
  }
  const log = captureLog()
  const outputs: Record<string, string> = {}
  const failures: string[] = []
  let summary = ''
  const deps: RunDeps = {
    inputs: name => inputs[name] ?? '',
    env: { PATH: process.env.PATH ?? '' },
    cwd: tmp,
    runner: execRunner,
    log,
    setOutput: (name, value) => {
      outputs[name] = value
    },
    summary: { addRaw: text => (summary += text), write: async () => undefined },
    setFailed: message => failures.push(message)
  }
  await run(deps)
  const files = fs.readdirSync(inputs['output-dir'], { recursive: true, withFileTypes: true }).filter(f => f.isFile())
  const written = files.map(f => fs.readFileSync(path.join(f.parentPath, f.name), 'utf8'))
  return {
    text: [...log.lines, summary, ...failures, ...Object.values(outputs), ...written].join('\n'),
    outputs,
    failures,
    outputDir: inputs['output-dir']
  }
}

describe('hostile values through a whole run (plan mode, in-process)', () => {
  it('never prints a secret with " and a space, in any form', async () => {
    const r = await planRun({ 'secret-env': `S=${SECRET}` })
    expect(r.failures).toEqual([])
    for (const leak of LEAKS) expect(r.text).not.toContain(leak)
  })

  it('never prints verify-url credentials: not in the url output, the summary, the log or the plan', async () => {
    const r = await planRun({ 'verify-url': 'https://deployer:pä ss@app.example.edu/app/' })
    expect(r.failures).toEqual([])
    expect(r.outputs.url).toBe('https://app.example.edu/app/')
    for (const leak of ['pä ss', 'p%C3%A4%20ss', 'deployer']) expect(r.text).not.toContain(leak)
  })

  it('renders a web.config xmllint accepts for a site name and release id holding --', async () => {
    const r = await planRun({ 'site-name': 'Web--Site', 'release-id': 'build--7' })
    expect(r.failures).toEqual([])
    const web = fs.readFileSync(path.join(r.outputDir, 'web.config'), 'utf8')
    expect(web).toContain('Web- -Site/app, release build- -7.')
    expect(xmllint(web)).toBe(0)
  })
})

describe('rendered XML is checked as strictly as xmllint', () => {
  const templates = new TemplateSet()

  it('a comment with -- inside a value renders valid XML', () => {
    const text = templates.render('static-web.config', { staticUrlPath: '/a--b--/static/' })
    expect(xmllint(text)).toBe(0)
    expect(text).toContain('/a- -b- -/static/')
  })

  it('refuses control characters raw or as references, as xmllint does', () => {
    for (const bad of ['<a b="x\u0001y"/>', '<a>\u001f</a>', '<a b="&#1;"/>', '<a b="&#x1F;"/>', '<a>\uFFFE</a>']) {
      expect(xmllint(bad)).not.toBe(0)
      expect(() => parseXmlStrict(bad, 'test')).toThrow(/not well-formed XML/)
    }
    for (const good of ['<a b="x&#9;y"/>', '<a>é ✓ &#xE9;</a>']) {
      expect(xmllint(good)).toBe(0)
      expect(() => parseXmlStrict(good, 'test')).not.toThrow()
    }
  })
})

describe('a template that breaks on this run’s values', () => {
  it('is refused before the venv is built, blaming templates once', async () => {
    const templates = path.join(tmp, 'comment-templates')
    fs.mkdirSync(templates, { recursive: true })
    const bundled = fs.readFileSync(path.join(import.meta.dirname, '..', 'templates', 'app-web.config.hbs'), 'utf8')
    // An override that puts the release id into a comment without the comment helper.
    fs.writeFileSync(path.join(templates, 'app-web.config.hbs'), bundled.replace('{{comment releaseId}}', '{{xml releaseId}}'))
    const deployRoot = path.join(tmp, 'comment-root')
    const calls: string[][] = []
    const runner: ProcessRunner = {
      run: async (file, args, options) => {
        calls.push([file, ...args])
        return execRunner.run(file, args, options)
      }
    }
    const inputs: Record<string, string> = {
      mode: 'stage',
      'app-dir': EXAMPLE_APP,
      'deploy-root': deployRoot,
      'app-path': '/app',
      'release-id': 'r--1',
      python: SYSTEM_PYTHON,
      templates
    }
    const failures: string[] = []
    const log = captureLog()
    await run({
      inputs: name => inputs[name] ?? '',
      env: { PATH: process.env.PATH ?? '' },
      cwd: tmp,
      runner,
      log,
      setOutput: () => undefined,
      summary: { addRaw: () => undefined, write: async () => undefined },
      setFailed: message => failures.push(message)
    })
    expect(failures).toEqual([expect.stringMatching(/^Input 'templates': .*not well-formed XML.*; fix the template$/)])
    expect(log.lines.filter(l => l.startsWith('error:'))).toEqual([])
    expect(calls.some(c => c.includes('venv'))).toBe(false)
    expect(fs.existsSync(path.join(deployRoot, 'venvs'))).toBe(false)
  })
})
