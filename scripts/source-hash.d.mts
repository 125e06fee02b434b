// Types of source-hash.mjs (see its header).
export const SOURCE_DIRS: string[]
export const SOURCE_HASH_FILE: string
export function sourceHash(root: string): string
