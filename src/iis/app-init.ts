import { InputError } from '../errors.js'
import type { Appcmd } from './appcmd.js'

// IIS Application Initialization registers its module in system.webServer/globalModules; without it IIS keeps
// startMode and preloadEnabled but never sends the warm-up request (docs/windows-facts.md, ai-module). The
// name is not settled by a primary source: both names the feature has been known by are accepted, and the
// module's image, warmup.dll, too.
const MODULE_NAMES = ['ApplicationInitializationModule', 'AppWarmupModule']
const MODULE_IMAGE = 'warmup.dll'

export const INSTALL_APP_INIT = 'Install-WindowsFeature Web-AppInit'

/** Whether appcmd's globalModules listing (text or /xml: `<add name=".." image=".." />`) holds the module. */
export function hasAppInitModule(listing: string): boolean {
  const names = MODULE_NAMES.map(n => `"${n}"`).join('|')
  return new RegExp(`\\bname\\s*=\\s*(?:${names})`, 'i').test(listing) || new RegExp(`[\\\\/"]${MODULE_IMAGE}"`, 'i').test(listing)
}

/** Warm-up needs the module: refuse before anything on the server changes, naming the input and the fix. */
export async function requireAppInit(appcmd: Appcmd): Promise<void> {
  const listing = await appcmd.read('list', 'config', '-section:system.webServer/globalModules')
  if (hasAppInitModule(listing)) return
  throw new InputError(
    'warm-up',
    `IIS Application Initialization is not installed (no ApplicationInitializationModule in globalModules); install it with ${INSTALL_APP_INIT} (DISM: IIS-ApplicationInit), or set warm-up: false`
  )
}
