// Types of iis-standin-content.mjs (see the file's header).
import type { Element } from '@xmldom/xmldom'

export function liftLocations(configuration: Element | undefined): Set<string>
export function declaresLocked(configuration: Element, locked: ReadonlySet<string> | undefined): boolean
export function filterRequest(levels: readonly Element[], urlRest: string): { status: number; text: string } | undefined
export function customHeaders(levels: readonly Element[]): Record<string, string>
