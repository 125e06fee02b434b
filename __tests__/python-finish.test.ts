/**
 * finish() (src/python/scripts/diis_result.py), the last call of the deploy's Python scripts: the app's database
 * connections are closed and every object is frozen, so the interpreter's final collection skips them.
 */
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { SYSTEM_PYTHON } from './support/wheelhouse.js'

const SCRIPTS = path.join(import.meta.dirname, '..', 'src', 'python', 'scripts')

const PROGRAM = `
import gc, sys, types
sys.path.insert(0, sys.argv[1])
closed = []
db = types.ModuleType('django.db')
db.connections = types.SimpleNamespace(close_all=lambda: closed.append(True))
sys.modules['django.db'] = db
import diis_result
before = gc.get_freeze_count()
diis_result.finish()
print(before, gc.get_freeze_count() > 1000, closed)
`

describe('finish()', () => {
  it('closes the connections and freezes the objects', () => {
    expect(execFileSync(SYSTEM_PYTHON, ['-c', PROGRAM, SCRIPTS], { encoding: 'utf8' }).trim()).toBe('0 True [True]')
  })
})
