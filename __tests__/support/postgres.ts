/**
 * A private PostgreSQL server for tests: Debian's postgresql 15 binaries, a cluster in a temp folder, listening
 * only on a unix socket in a private folder (no TCP port to collide on). initdb refuses root, so as root the server
 * runs as the postgres user (runuser) in folders it owns. A missing PostgreSQL fails the test, it never skips.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export const PG_BIN = '/usr/lib/postgresql/15/bin'

export interface PrivatePostgres {
  /** The socket folder: Django's HOST for a unix socket. */
  socketDir: string
  user: string
  port: string
  createDatabase(name: string): void
  /** Runs SQL in a database as the server's user; the output of psql -At. */
  sql(database: string, query: string): string
  stop(): void
}

const asRoot = process.getuid?.() === 0

function exec(program: string, args: string[]): string {
  const argv = asRoot ? ['-u', 'postgres', '--', program, ...args] : args
  return execFileSync(asRoot ? 'runuser' : program, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

export function startPostgres(): PrivatePostgres {
  const initdb = path.join(PG_BIN, 'initdb')
  if (!fs.existsSync(initdb)) {
    throw new Error(`PostgreSQL 15 is missing (${initdb}): install Debian's postgresql and python3-psycopg2 (see .ci/run)`)
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-private-'))
  const data = path.join(dir, 'data')
  const socketDir = path.join(dir, 'socket')
  fs.mkdirSync(socketDir)
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir])
  const user = asRoot ? 'postgres' : os.userInfo().username
  const port = '5432'
  exec(initdb, ['-D', data, '-U', user, '--auth=trust', '--no-sync', '-E', 'UTF8'])
  exec(path.join(PG_BIN, 'pg_ctl'), [
    '-D',
    data,
    '-w',
    '-l',
    path.join(dir, 'server.log'),
    '-o',
    `-c listen_addresses='' -c unix_socket_directories='${socketDir}' -c port=${port} -c fsync=off`,
    'start'
  ])
  const psql = (database: string, query: string): string =>
    exec(path.join(PG_BIN, 'psql'), [
      '-h',
      socketDir,
      '-p',
      port,
      '-U',
      user,
      '-d',
      database,
      '-At',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      query
    ]).trim()
  return {
    socketDir,
    user,
    port,
    createDatabase: name => void psql('postgres', `CREATE DATABASE ${name}`),
    sql: psql,
    stop: () => {
      try {
        exec(path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
