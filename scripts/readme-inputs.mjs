// Regenerates the inputs and outputs tables in README.md from action.yml, between the markers
// <!-- inputs:start --> / <!-- inputs:end --> and <!-- outputs:start --> / <!-- outputs:end -->.
// `node scripts/readme-inputs.mjs` rewrites README.md; `--check` exits 1 when it is stale.
// The exported functions let a test compare the README with a fresh generation.
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parse } from 'yaml'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Markdown table cell: pipes would split the cell, newlines would end the row. */
function cell(text) {
  return String(text).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim()
}

/** Inline code that survives backticks inside the value. */
function code(text) {
  if (text === '') return '`""`'
  const fence = text.includes('`') ? '``' : '`'
  const pad = text.includes('`') ? ' ' : ''
  return `${fence}${pad}${cell(text)}${pad}${fence}`
}

export function inputsTable(action) {
  const rows = Object.entries(action.inputs ?? {}).map(([name, input]) => {
    const required = input.required === true ? 'yes' : 'no'
    const hasDefault = input.default !== undefined && input.default !== null
    const def = hasDefault ? code(String(input.default)) : ''
    return `| \`${name}\` | ${required} | ${def} | ${cell(input.description ?? '')} |`
  })
  return ['| Input | Required | Default | Description |', '| --- | --- | --- | --- |', ...rows].join('\n')
}

export function outputsTable(action) {
  const rows = Object.entries(action.outputs ?? {}).map(([name, output]) => `| \`${name}\` | ${cell(output.description ?? '')} |`)
  return ['| Output | Description |', '| --- | --- |', ...rows].join('\n')
}

function replaceBetween(text, marker, body) {
  const start = `<!-- ${marker}:start -->`
  const end = `<!-- ${marker}:end -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < 0 || to < from) {
    throw new Error(`README.md lacks the markers ${start} and ${end} (in that order)`)
  }
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`
}

/** README text with both tables regenerated from the action.yml text. */
export function renderReadme(readme, actionYaml) {
  const action = parse(actionYaml)
  return replaceBetween(replaceBetween(readme, 'inputs', inputsTable(action)), 'outputs', outputsTable(action))
}

export function readmeFiles(dir = root) {
  return {
    readmePath: join(dir, 'README.md'),
    readme: readFileSync(join(dir, 'README.md'), 'utf8'),
    actionYaml: readFileSync(join(dir, 'action.yml'), 'utf8')
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { readmePath, readme, actionYaml } = readmeFiles()
  const fresh = renderReadme(readme, actionYaml)
  if (process.argv.includes('--check')) {
    if (fresh !== readme) {
      console.error('README.md inputs/outputs tables differ from action.yml: run `npm run docs`.')
      process.exit(1)
    }
  } else if (fresh !== readme) {
    writeFileSync(readmePath, fresh)
    console.log('README.md tables regenerated from action.yml')
  } else {
    console.log('README.md tables already match action.yml')
  }
}
