import { describe, expect, it } from 'vitest'
import { InputError } from '../src/errors.js'
import { readReleaseCommands, splitCommandLine } from '../src/inputs/release-commands.js'

const refusal = (raw: string): string => {
  try {
    readReleaseCommands(raw)
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).input).toBe('release-commands')
    return (error as Error).message
  }
  throw new Error(`'${raw}' was accepted`)
}

describe('release-commands', () => {
  it('reads one command a line into argv, quotes grouping words and nothing else interpreted', () => {
    expect(readReleaseCommands('compilemessages\n\n  createcachetable  \n# a comment\n')).toEqual([
      ['compilemessages'],
      ['createcachetable']
    ])
    expect(readReleaseCommands(`loaddata "initial data.json" --app 'notes'`)).toEqual([['loaddata', 'initial data.json', '--app', 'notes']])
    // No shell: what a shell would expand reaches the command as written.
    expect(readReleaseCommands('check $HOME; rm -rf x && echo `id`')).toEqual([['check', '$HOME;', 'rm', '-rf', 'x', '&&', 'echo', '`id`']])
    expect(splitCommandLine('a "b c" d')).toEqual(['a', 'b c', 'd'])
  })

  it('takes commands written as in a terminal', () => {
    expect(readReleaseCommands('python manage.py compilemessages\nmanage.py createcachetable\npy manage.py check')).toEqual([
      ['compilemessages'],
      ['createcachetable'],
      ['check']
    ])
  })

  it('refuses commands that wait for a terminal, serve, drop data, write code or bypass migrate', () => {
    for (const name of ['runserver', 'shell', 'dbshell', 'flush', 'test', 'makemigrations', 'startapp', 'migrate', 'changepassword']) {
      expect(refusal(`${name} --x`)).toMatch(
        new RegExp(`^Input 'release-commands': '${name}' is not run as a release command: .+; remove that line$`)
      )
    }
    expect(refusal('migrate notes zero')).toContain('use the migrate input')
    expect(refusal('createsuperuser --username admin')).toContain('add --noinput')
    expect(readReleaseCommands('createsuperuser --noinput --username admin')).toEqual([
      ['createsuperuser', '--noinput', '--username', 'admin']
    ])
  })

  it('refuses a line that is not a command, or has an unclosed quote', () => {
    expect(refusal('"unclosed')).toBe(`Input 'release-commands': '"unclosed' has an unclosed quote; close it, or drop the quotes`)
    expect(refusal('./deploy.sh')).toMatch(/does not start with a management command name/)
    expect(refusal('--settings=x check')).toMatch(/does not start with a management command name/)
  })
})
