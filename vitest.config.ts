import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__tests__/**/*.test.ts'],
    // Integration tests start real Python, pip and HTTP servers: give them room, and run files in parallel
    // only as far as a 2-core machine allows.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    // @actions/workflow-parser imports its JSON schemas without an import attribute, which only a bundler
    // accepts: let vite transform it instead of handing it to Node.
    server: { deps: { inline: ['@actions/workflow-parser'] } }
  }
})
