/**
 * release-commands: management commands run in the new release before the switch, one a line. Each line becomes
 * an argv for Django's own command-line parser (never a shell), so quotes only group words.
 */
import { InputError } from '../errors.js'

/**
 * Commands that would hang a runner waiting for a terminal, destroy data, write code into a release that is
 * already built, or bypass the migrate input's backup and record.
 */
const REFUSED: Record<string, string> = {
  runserver: 'it serves until stopped; IIS serves the app',
  testserver: 'it serves until stopped; IIS serves the app',
  shell: 'it waits for a terminal',
  dbshell: 'it waits for a terminal',
  changepassword: 'it waits for a terminal',
  flush: 'it deletes every row of the database',
  reset_db: 'it drops the database',
  test: 'it creates and drops test databases; run tests before deploying',
  makemigrations: 'migrations belong in the repository, not only in one release folder',
  squashmigrations: 'migrations belong in the repository, not only in one release folder',
  startapp: 'it writes code into the release',
  startproject: 'it writes code into the release',
  migrate: 'use the migrate input: it runs migrate first, backs up SQLite and records what it applied'
}

/** Words of one line; "..." and '...' group words with spaces, as in a shell, but nothing else is interpreted. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = []
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g
  let m: RegExpExecArray | null
  while ((m = re.exec(line)) !== null) words.push(m[1] ?? m[2] ?? m[3] ?? '')
  return words
}

export function readReleaseCommands(raw: string): string[][] {
  const commands: string[][] = []
  for (const line of raw.split(/\r?\n/).map(l => l.trim())) {
    if (line === '' || line.startsWith('#')) continue
    if ((line.match(/"/g) ?? []).length % 2 !== 0 || (line.match(/'/g) ?? []).length % 2 !== 0) {
      throw new InputError('release-commands', `'${line}' has an unclosed quote; close it, or drop the quotes`)
    }
    const argv = splitCommandLine(line)
    // Written as in a terminal: "python manage.py x" and "manage.py x" mean x.
    while (argv.length > 1 && /^(python[\d.]*(\.exe)?|py|manage\.py)$/i.test(argv[0] ?? '')) argv.shift()
    const name = argv[0] ?? ''
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new InputError(
        'release-commands',
        `'${line}' does not start with a management command name; write one command a line, e.g. compilemessages`
      )
    }
    const why = REFUSED[name.toLowerCase()]
    if (why) throw new InputError('release-commands', `'${name}' is not run as a release command: ${why}; remove that line`)
    if (name === 'createsuperuser' && !argv.includes('--noinput') && !argv.includes('--no-input')) {
      throw new InputError(
        'release-commands',
        `'createsuperuser' waits for a terminal; add --noinput (it then reads DJANGO_SUPERUSER_* from env/secret-env)`
      )
    }
    commands.push(argv)
  }
  return commands
}
