/**
 * How the action talks to the runner: inputs from INPUT_* variables, workflow commands on stdout, outputs and the
 * job summary appended to the files the runner names (docs/design-decisions.md). The handful the action uses,
 * written out rather than taken from @actions/core, whose bundle is 1 MB of code (an HTTP client for OIDC tokens
 * among it) that every run would load and never call: about 0.08 s of every run (npm run bench).
 * __tests__/workflow-commands.test.ts holds each one to @actions/core's own output.
 */
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'

export interface AnnotationProps {
  title?: string
  file?: string
  startLine?: number
}

/** A command's message: the runner reads one line, so %, CR and LF are escaped. */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** A property's value: as a message, and ':' and ',' too, which end a value. */
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

function issue(command: string, message: string, properties: Record<string, string | number | undefined> = {}): void {
  // As @actions/core prints it: a space once properties are given, even when none has a value.
  const props = Object.keys(properties).length
    ? ` ${Object.entries(properties)
        .filter(([, value]) => Boolean(value))
        .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
        .join(',')}`
    : ''
  process.stdout.write(`::${command}${props}::${escapeData(message)}${os.EOL}`)
}

function annotation(props: AnnotationProps | undefined): Record<string, string | number | undefined> {
  return props && Object.keys(props).length ? { title: props.title, file: props.file, line: props.startLine } : {}
}

/** An input as the runner passes it: INPUT_ and the name upper-cased, spaces as underscores; trimmed. */
export function getInput(name: string): string {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim()
}

export function info(message: string): void {
  process.stdout.write(`${message}${os.EOL}`)
}

export function debug(message: string): void {
  issue('debug', message)
}

export function warning(message: string, props?: AnnotationProps): void {
  issue('warning', message, annotation(props))
}

export function error(message: string, props?: AnnotationProps): void {
  issue('error', message, annotation(props))
}

export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  issue('group', name)
  try {
    return await fn()
  } finally {
    issue('endgroup', '')
  }
}

/** The runner replaces the value with *** in every later line of the log. */
export function setSecret(value: string): void {
  issue('add-mask', value)
}

/** The run fails: an error annotation and exit code 1, once the event loop ends. */
export function setFailed(message: string): void {
  process.exitCode = 1
  error(message)
}

/** Appends `name<<delimiter` / value / delimiter to the file the runner names; the delimiter is in neither. */
export function setOutput(name: string, value: string): void {
  const file = process.env.GITHUB_OUTPUT
  if (!file) {
    // Outside a runner: the command form, which a local run's reader can still parse.
    process.stdout.write(os.EOL)
    issue('set-output', value, { name })
    return
  }
  if (!fs.existsSync(file)) throw new Error(`Missing file at path: ${file}`)
  const delimiter = `ghadelimiter_${randomUUID()}`
  if (name.includes(delimiter) || value.includes(delimiter)) throw new Error(`output ${name} contains the delimiter ${delimiter}`)
  fs.appendFileSync(file, `${name}<<${delimiter}${os.EOL}${value}${os.EOL}${delimiter}${os.EOL}`, 'utf8')
}

/** The job summary: text gathered, then appended to the file GITHUB_STEP_SUMMARY names. */
class Summary {
  private buffer = ''

  addRaw(text: string, addEOL = false): this {
    this.buffer += text + (addEOL ? os.EOL : '')
    return this
  }

  async write(): Promise<this> {
    const file = process.env.GITHUB_STEP_SUMMARY
    if (!file)
      throw new Error(
        'Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.'
      )
    try {
      await fs.promises.access(file, fs.constants.R_OK | fs.constants.W_OK)
    } catch {
      throw new Error(`Unable to access summary file: '${file}'. Check if the file has correct read/write permissions.`)
    }
    await fs.promises.appendFile(file, this.buffer, 'utf8')
    return this.emptyBuffer()
  }

  emptyBuffer(): this {
    this.buffer = ''
    return this
  }
}

export const summary = new Summary()
