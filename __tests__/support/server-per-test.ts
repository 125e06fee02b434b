/**
 * The lifecycle of a test file whose tests each deploy to a server of their own (support/migrate-deploy.ts): the
 * wheelhouse is built once, before its tests, and each test's server is closed after it.
 */
import path from 'node:path'
import { afterEach, beforeAll } from 'vitest'
import { createTestServer, type TestServer } from './migrate-deploy.js'
import { tempDir } from './temp-dir.js'
import { buildWheelhouse } from './wheelhouse.js'

/**
 * Registers the hooks; `start` gives the test its server, with the app's database settings `dbEnv` (createTestServer),
 * by default a SQLite database in a folder of its own.
 */
export function serverPerTest(name: string): { start: (dbEnv?: string) => Promise<TestServer> } {
  let wheelhouse = ''
  let server: TestServer | undefined
  beforeAll(async () => {
    wheelhouse = await buildWheelhouse(path.join(tempDir(`${name}-wheels`), 'wheelhouse'))
  })
  afterEach(async () => {
    await server?.close()
    server = undefined
  })
  return {
    start: async (dbEnv = `NOTES_SQLITE=${path.join(tempDir(`${name}-db`), 'db.sqlite3')}`) => {
      server = await createTestServer(wheelhouse, dbEnv)
      return server
    }
  }
}
