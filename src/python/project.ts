import fs from 'node:fs'
import path from 'node:path'

/** The settings module manage.py sets, e.g. os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hello.settings'). */
export function settingsFromManagePy(source: string): string | undefined {
  const m = /DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([A-Za-z_][\w.]*)['"]/.exec(source)
  return m?.[1]
}

/** The file that defines a settings module: mod.py or the package's mod/__init__.py. */
export function settingsModuleFile(appDir: string, module: string): string | undefined {
  const base = path.join(appDir, ...module.split('.'))
  return [`${base}.py`, path.join(base, '__init__.py')].find(f => fs.existsSync(f))
}

/** The manage.py of a Django project folder, or undefined when the folder holds none. */
export function managePyOf(appDir: string): string | undefined {
  const managePy = path.join(appDir, 'manage.py')
  return fs.existsSync(managePy) ? managePy : undefined
}
