/**
 * Where the app lives in IIS: a site and the app's path in it ('/' for the site's root app). appcmd names that
 * one place in three spellings, each derived here and nowhere else.
 */
export interface AppLocation {
  site: string
  /** '/app', or '/' for a site's root app. */
  path: string
}

export function appLocation(config: { siteName: string; appPath: string }): AppLocation {
  return { site: config.siteName, path: config.appPath }
}

/** The configuration location path (`unlock config`, `set config`, `<location path>`): 'S/app', or 'S'. */
export function locationPath(app: AppLocation): string {
  return app.path === '/' ? app.site : `${app.site}${app.path}`
}

/** The application's identifier (`set app`, `delete app`, `list config`): 'S/app', or 'S/'. */
export function appId(app: AppLocation): string {
  return app.path === '/' ? `${app.site}/` : `${app.site}${app.path}`
}

/** The app's root virtual directory: 'S/app/', or 'S/' for a site's root app. */
export function rootVdirId(app: AppLocation): string {
  return app.path === '/' ? `${app.site}/` : `${app.site}${app.path}/`
}

/** A vdir of the app by its path below the app: 'S/app/assets', or 'S/assets' under a site's root app. */
export function vdirId(app: AppLocation, vdirPath: string): string {
  return `${appId(app).replace(/\/$/, '')}${vdirPath}`
}

/** IIS compares site, app, pool and variable names without regard to case. */
export const sameName = (a: string | undefined, b: string | undefined): boolean => (a ?? '').toLowerCase() === (b ?? '').toLowerCase()
