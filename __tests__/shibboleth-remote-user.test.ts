import { describe, expect, test } from 'vitest'
import { checkRemoteUserSettings, remoteUserNotes } from '../src/shibboleth/remote-user-check.js'

/** MIDDLEWARE of a project made by Django 3.2's startproject. */
const STARTPROJECT_MIDDLEWARE = [
  'django.middleware.security.SecurityMiddleware',
  'django.contrib.sessions.middleware.SessionMiddleware',
  'django.middleware.common.CommonMiddleware',
  'django.middleware.csrf.CsrfViewMiddleware',
  'django.contrib.auth.middleware.AuthenticationMiddleware',
  'django.contrib.messages.middleware.MessageMiddleware',
  'django.middleware.clickjacking.XFrameOptionsMiddleware'
]
const DEFAULT_BACKENDS = ['django.contrib.auth.backends.ModelBackend']
const withRemote = (name: string, at = 5): string[] => [...STARTPROJECT_MIDDLEWARE.slice(0, at), name, ...STARTPROJECT_MIDDLEWARE.slice(at)]

describe('checkRemoteUserSettings', () => {
  test.each([
    ['RemoteUserMiddleware', 'django.contrib.auth.middleware.RemoteUserMiddleware'],
    ['PersistentRemoteUserMiddleware', 'django.contrib.auth.middleware.PersistentRemoteUserMiddleware']
  ])('passes with %s after AuthenticationMiddleware and RemoteUserBackend', (_label, middleware) => {
    const settings = {
      MIDDLEWARE: withRemote(middleware),
      AUTHENTICATION_BACKENDS: ['django.contrib.auth.backends.RemoteUserBackend', ...DEFAULT_BACKENDS]
    }
    expect(checkRemoteUserSettings(settings)).toEqual([])
    expect(remoteUserNotes(settings)).toEqual([])
  })

  test('fails a plain startproject settings file with one sentence per missing setting, each naming the opt-out', () => {
    const problems = checkRemoteUserSettings({ MIDDLEWARE: STARTPROJECT_MIDDLEWARE, AUTHENTICATION_BACKENDS: DEFAULT_BACKENDS })
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(
      /^MIDDLEWARE lacks django\.contrib\.auth\.middleware\.RemoteUserMiddleware .*add it after django\.contrib\.auth\.middleware\.AuthenticationMiddleware/
    )
    expect(problems[1]).toMatch(/^AUTHENTICATION_BACKENDS lacks django\.contrib\.auth\.backends\.RemoteUserBackend/)
    for (const p of problems) {
      expect(p).toContain('require-remote-user: false')
      expect(p.trim().split(/\.\s+(?=[A-Z])/)).toHaveLength(1)
    }
  })

  test('fails RemoteUserMiddleware placed before AuthenticationMiddleware', () => {
    const problems = checkRemoteUserSettings({
      MIDDLEWARE: withRemote('django.contrib.auth.middleware.RemoteUserMiddleware', 1),
      AUTHENTICATION_BACKENDS: ['django.contrib.auth.backends.RemoteUserBackend']
    })
    expect(problems).toEqual([
      expect.stringMatching(
        /lists django\.contrib\.auth\.middleware\.RemoteUserMiddleware before .*AuthenticationMiddleware; move it below/
      )
    ])
  })

  test('fails RemoteUserMiddleware without AuthenticationMiddleware', () => {
    const middleware = STARTPROJECT_MIDDLEWARE.filter(m => !m.endsWith('AuthenticationMiddleware')).concat(
      'django.contrib.auth.middleware.RemoteUserMiddleware'
    )
    expect(
      checkRemoteUserSettings({ MIDDLEWARE: middleware, AUTHENTICATION_BACKENDS: ['django.contrib.auth.backends.RemoteUserBackend'] })
    ).toEqual([expect.stringMatching(/has django\.contrib\.auth\.middleware\.RemoteUserMiddleware but not .*AuthenticationMiddleware/)])
  })

  test('refuses a custom subclass of the middleware, which may read a client header', () => {
    const problems = checkRemoteUserSettings({
      MIDDLEWARE: withRemote('myapp.middleware.HeaderRemoteUserMiddleware'),
      AUTHENTICATION_BACKENDS: ['django.contrib.auth.backends.RemoteUserBackend']
    })
    expect(problems).toEqual([
      expect.stringMatching(
        /has myapp\.middleware\.HeaderRemoteUserMiddleware but not Django's own RemoteUserMiddleware; a subclass may read a client-supplied header/
      )
    ])
  })

  test('accepts a backend named like RemoteUserBackend, with a note that it was taken on trust', () => {
    const settings = {
      MIDDLEWARE: withRemote('django.contrib.auth.middleware.RemoteUserMiddleware'),
      AUTHENTICATION_BACKENDS: ['myapp.auth.CampusRemoteUserBackend']
    }
    expect(checkRemoteUserSettings(settings)).toEqual([])
    expect(remoteUserNotes(settings)).toEqual([
      expect.stringMatching(
        /myapp\.auth\.CampusRemoteUserBackend, taken to be a subclass of django\.contrib\.auth\.backends\.RemoteUserBackend/
      )
    ])
  })
})
