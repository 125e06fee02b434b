import fs from 'node:fs'
import path from 'node:path'
import { InputError } from '../errors.js'
import { managePyOf, settingsFromManagePy, settingsModuleFile } from '../python/project.js'
import type { InputValue } from './types.js'

export interface ProjectInputs {
  appDir: string
  managePy: string
  requirements: string
}

/** app-dir and requirements: the Django project's folder, with its manage.py, and the requirements file. */
export function readProject(get: InputValue, cwd: string): ProjectInputs {
  const appDir = path.resolve(cwd, get('app-dir'))
  if (!fs.existsSync(appDir) || !fs.statSync(appDir).isDirectory()) {
    throw new InputError('app-dir', `folder ${appDir} does not exist; point app-dir at the folder that holds manage.py`)
  }
  const managePy = managePyOf(appDir)
  if (!managePy) throw new InputError('app-dir', `${appDir} has no manage.py; point app-dir at the Django project's folder`)

  // action.yml: an empty requirements means requirements.txt in app-dir.
  const requirements = path.resolve(appDir, get('requirements') || 'requirements.txt')
  if (!fs.existsSync(requirements)) {
    throw new InputError('requirements', `${requirements} does not exist; commit a requirements file or set requirements to its path`)
  }
  return { appDir, managePy, requirements }
}

/** settings-module, or the one manage.py sets; it must be a file of the project. */
export function readSettingsModule(get: InputValue, project: ProjectInputs): string {
  const settingsModule = get('settings-module') || settingsFromManagePy(fs.readFileSync(project.managePy, 'utf8')) || ''
  if (!settingsModule)
    throw new InputError('settings-module', 'manage.py does not set DJANGO_SETTINGS_MODULE; set settings-module, e.g. mysite.settings')
  if (!/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(settingsModule)) {
    throw new InputError('settings-module', `'${settingsModule}' is not a Python module path; use dotted names such as mysite.settings`)
  }
  if (!settingsModuleFile(project.appDir, settingsModule)) {
    throw new InputError(
      'settings-module',
      `${settingsModule} is not importable from ${project.appDir} (no ${settingsModule.replace(/\./g, '/')}.py); fix settings-module or app-dir`
    )
  }
  return settingsModule
}
