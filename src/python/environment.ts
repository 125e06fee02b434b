/** A variable the app sees, as the plan lists them (DJANGO_SETTINGS_MODULE, PYTHONPATH, WSGI_HANDLER, env inputs). */
export interface AppVar {
  name: string
  value: string
}

/** Python reads these at start-up; a runner's own setting must not leak into the venv or the app. */
const PYTHON_STARTUP_VARS = ['PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'PYTHONUSERBASE', 'VIRTUAL_ENV', '__PYVENV_LAUNCHER__']

/**
 * Machine-level variables every Windows process gets from the system (the FastCGI worker too); Python needs
 * SYSTEMROOT for sockets and randomness. Nothing else of the runner's environment (tokens, GITHUB_*) passes.
 */
const MACHINE_VARS = [
  'PATH',
  'PATHEXT',
  'SYSTEMROOT',
  'SYSTEMDRIVE',
  'WINDIR',
  'COMSPEC',
  'TEMP',
  'TMP',
  'TMPDIR',
  'PROGRAMDATA',
  'PROGRAMFILES',
  'NUMBER_OF_PROCESSORS',
  'PROCESSOR_ARCHITECTURE',
  'OS',
  'LANG',
  'LC_ALL'
]

function pick(base: NodeJS.ProcessEnv, keep: (upperName: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && keep(name.toUpperCase())) out[name] = value
  }
  return out
}

/** The runner's environment for venv creation and pip (pip's own PIP_* settings stay), minus Python start-up overrides. */
export function toolEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return pick(base, name => !PYTHON_STARTUP_VARS.includes(name))
}

/** What the app's process sees under IIS: the machine's basics plus exactly the variables the plan registers. */
export function appProcessEnv(vars: readonly AppVar[], base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env = pick(base, name => MACHINE_VARS.includes(name))
  for (const v of vars) {
    // Windows names are case-insensitive: a registered variable replaces the machine's one of the same name.
    for (const existing of Object.keys(env)) if (existing.toUpperCase() === v.name.toUpperCase()) delete env[existing]
    env[v.name] = v.value
  }
  return env
}
