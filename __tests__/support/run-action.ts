import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SOURCE_HASH_FILE, sourceHash } from '../../scripts/source-hash.mjs'

export const DIST_INDEX = path.join(import.meta.dirname, '..', '..', 'dist', 'index.js')
export const EXAMPLE_APP = path.join(import.meta.dirname, '..', '..', 'examples', 'hello')
export const STALE_DIST_MESSAGE = 'dist/ is older than src/: run npm run bundle'

/**
 * Whether dist/ was bundled from the src/ and templates/ in `root`: the hash npm run bundle recorded equals theirs.
 * Content, not file times, because a fresh clone (CI) gets arbitrary times.
 */
export function distIsFresh(root = path.join(import.meta.dirname, '..', '..')): boolean {
  const recorded = path.join(root, 'dist', SOURCE_HASH_FILE)
  return fs.existsSync(recorded) && fs.readFileSync(recorded, 'utf8').trim() === sourceHash(root)
}

let distChecked = false

export interface ActionRun {
  exitCode: number
  stdout: string
  stderr: string
  /** Outputs the action set through GITHUB_OUTPUT. */
  outputs: Record<string, string>
  /** The job summary markdown it wrote. */
  summary: string
  /** Lines of stdout that are ::error:: commands. */
  errors: string[]
}

/** GITHUB_OUTPUT holds `name<<DELIMITER`, the value's lines, then `DELIMITER`. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!m) continue
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i])
    outputs[m[1]] = value.join('\n')
  }
  return outputs
}

/** The environment the runner gives an action: this process's, less other runs' INPUT_* and GITHUB_*, then `env` and the inputs. */
export function actionEnv(inputs: Record<string, string>, env: Record<string, string>): Record<string, string> {
  const childEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('INPUT_') && !k.startsWith('GITHUB_')) childEnv[k] = v
  Object.assign(childEnv, env)
  for (const [name, value] of Object.entries(inputs)) childEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  return childEnv
}

/** A copy of examples/hello under `work` with one file changed, as a new commit of the app would be. */
export function exampleVariant(work: string, name: string, file: string, edit: (text: string) => string): string {
  const dir = path.join(work, name)
  fs.cpSync(EXAMPLE_APP, dir, { recursive: true })
  const target = path.join(dir, file)
  const before = fs.readFileSync(target, 'utf8')
  const after = edit(before)
  if (after === before) throw new Error(`exampleVariant ${name}: the edit changed nothing in ${file}`)
  fs.writeFileSync(target, after)
  return dir
}

/**
 * Runs the bundled action (dist/index.js) as GitHub's runner does: inputs as INPUT_* variables, outputs and
 * summary through the files the runner names.
 */
export function runAction(inputs: Record<string, string>, env: Record<string, string> = {}, cwd = process.cwd()): Promise<ActionRun> {
  // Once per test process: running an old bundle would test code that is no longer the source.
  if (!distChecked) {
    if (!distIsFresh()) return Promise.reject(new Error(STALE_DIST_MESSAGE))
    distChecked = true
  }
  const files = fs.mkdtempSync(path.join(os.tmpdir(), 'action-run-'))
  const outputFile = path.join(files, 'output')
  const summaryFile = path.join(files, 'summary.md')
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  // A private server lock unless the test names one: the default folder is shared with every checkout on the
  // machine, and a deploy there would wait for (or block) theirs.
  const withLock = { 'lock-dir': path.join(files, 'server-lock'), ...inputs }
  const childEnv = actionEnv(withLock, { GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, RUNNER_TEMP: files, ...env })
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [DIST_INDEX], { env: childEnv, cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(new Error(error.message, { cause: error }))
      const run: ActionRun = {
        exitCode: error ? Number(error.code) : 0,
        stdout,
        stderr,
        outputs: parseOutputFile(fs.readFileSync(outputFile, 'utf8')),
        summary: fs.readFileSync(summaryFile, 'utf8'),
        errors: stdout.split('\n').filter(l => l.startsWith('::error'))
      }
      fs.rmSync(files, { recursive: true, force: true })
      resolve(run)
    })
  })
}

/** Every file below a folder, relative, for "nothing was written there" and "no secret in any file" checks. */
export function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile())
    .map(e => path.relative(dir, path.join(e.parentPath, e.name)))
}
