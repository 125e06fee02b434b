// Types of readme-inputs.mjs, for the test that keeps README.md in sync with action.yml.
export interface ActionMetadata {
  inputs?: Record<string, { description?: string; required?: boolean; default?: unknown }>
  outputs?: Record<string, { description?: string }>
}
export function inputsTable(action: ActionMetadata): string
export function outputsTable(action: ActionMetadata): string
export function renderReadme(readme: string, actionYaml: string): string
export function readmeFiles(dir?: string): { readmePath: string; readme: string; actionYaml: string }
