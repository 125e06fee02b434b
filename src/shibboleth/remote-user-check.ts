/** The two Django settings that decide whether REMOTE_USER set by the SP logs a user in. */
export interface RemoteUserSettings {
  MIDDLEWARE: string[]
  AUTHENTICATION_BACKENDS: string[]
}

export const AUTHENTICATION_MIDDLEWARE = 'django.contrib.auth.middleware.AuthenticationMiddleware'
export const REMOTE_USER_MIDDLEWARES = [
  'django.contrib.auth.middleware.RemoteUserMiddleware',
  'django.contrib.auth.middleware.PersistentRemoteUserMiddleware'
]
export const REMOTE_USER_BACKEND = 'django.contrib.auth.backends.RemoteUserBackend'

const OPT_OUT = 'or set require-remote-user: false if the app authenticates otherwise'

/**
 * Only Django's own middlewares are accepted: they read request.META['REMOTE_USER'], which a client cannot set
 * under WSGI. A subclass may read a header instead (a client-controlled HTTP_ value), and its code is not visible here.
 */
function middlewareProblems(middleware: string[]): string[] {
  const auth = middleware.indexOf(AUTHENTICATION_MIDDLEWARE)
  const remote = middleware.findIndex(m => REMOTE_USER_MIDDLEWARES.includes(m))
  if (remote >= 0) {
    const name = middleware[remote]
    if (auth < 0)
      return [`MIDDLEWARE has ${name} but not ${AUTHENTICATION_MIDDLEWARE}, which it needs before it; add it above ${name}, ${OPT_OUT}.`]
    if (remote < auth)
      return [`MIDDLEWARE lists ${name} before ${AUTHENTICATION_MIDDLEWARE}; move it below AuthenticationMiddleware, ${OPT_OUT}.`]
    return []
  }
  const custom = middleware.filter(m => /RemoteUserMiddleware$/.test(m))
  if (custom.length > 0) {
    return [
      `MIDDLEWARE has ${custom.join(', ')} but not Django's own RemoteUserMiddleware; a subclass may read a client-supplied header, so use ${REMOTE_USER_MIDDLEWARES[0]} (or PersistentRemoteUserMiddleware) after AuthenticationMiddleware, ${OPT_OUT}.`
    ]
  }
  const where = auth >= 0 ? `after ${AUTHENTICATION_MIDDLEWARE}` : `after ${AUTHENTICATION_MIDDLEWARE} (also missing)`
  return [`MIDDLEWARE lacks ${REMOTE_USER_MIDDLEWARES[0]} (or PersistentRemoteUserMiddleware); add it ${where}, ${OPT_OUT}.`]
}

function backendProblems(backends: string[]): string[] {
  if (backends.some(b => /RemoteUserBackend$/.test(b))) return []
  return [`AUTHENTICATION_BACKENDS lacks ${REMOTE_USER_BACKEND}; add it (before ModelBackend if you keep that), ${OPT_OUT}.`]
}

/**
 * Problems that stop an SSO deploy: each one sentence naming the settings to add and the opt-out. Empty when
 * Django will log in the user the SP passes in REMOTE_USER.
 */
export function checkRemoteUserSettings(settings: RemoteUserSettings): string[] {
  return [...middlewareProblems(settings.MIDDLEWARE), ...backendProblems(settings.AUTHENTICATION_BACKENDS)]
}

/** What was accepted on trust: backends named like RemoteUserBackend whose class cannot be inspected from here. */
export function remoteUserNotes(settings: RemoteUserSettings): string[] {
  return settings.AUTHENTICATION_BACKENDS.filter(b => b !== REMOTE_USER_BACKEND && /RemoteUserBackend$/.test(b)).map(
    b => `AUTHENTICATION_BACKENDS has ${b}, taken to be a subclass of ${REMOTE_USER_BACKEND}; make sure it is one.`
  )
}
