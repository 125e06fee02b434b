import os from 'node:os'
import path from 'node:path'

/** Where runs on one server meet to take turns with IIS: machine-wide, not under any one app's deploy-root. */
export function defaultServerLockDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32'
    ? path.win32.join(env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData', 'django-iis-deploy')
    : path.join(os.tmpdir(), 'django-iis-deploy')
}
