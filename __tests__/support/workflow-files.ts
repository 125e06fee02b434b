// The workflow files the project ships: its own, and the examples users copy.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..', '..')
const WORKFLOW_DIRS = ['.github/workflows', 'examples/workflows']

/** Paths relative to the repository, directory by directory, sorted within each. */
export function workflowFiles(): string[] {
  return WORKFLOW_DIRS.flatMap(dir =>
    readdirSync(join(root, dir))
      .filter(f => /\.ya?ml$/.test(f))
      .sort()
      .map(f => `${dir}/${f}`)
  )
}
