// Types of input-defaults.mjs, for the test that keeps src/inputs/defaults.ts in sync with action.yml.
export const DEFAULTS_MODULE: string
export function renderDefaults(actionYaml: string): string
export function defaultsFiles(dir?: string): { modulePath: string; current: string; actionYaml: string }
export function syncDefaults(options?: { check?: boolean; dir?: string }): boolean
