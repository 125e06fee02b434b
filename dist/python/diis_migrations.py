"""The database steps of a deploy: list, back up, migrate, run release commands, restore.

As a script it reads a JSON spec on stdin and runs, in this order, stopping at the first part that fails:
- pending: the migrations `migrate --plan` would apply to the default database (or why the database was not reached);
- backup: {'to': file}: an SQLite default database copied with sqlite3's backup API (consistent even in WAL mode);
- migrate: `migrate --noinput`, answering which migrations it applied and the commands that would reverse them;
- commands: [[name, arg, ...], ...]: management commands, each answering on its own;
- restore: {'from': file, 'to': file}: a backup copied back over the database (no Django needed).
release_checks.py imports pending() so the stage's one Django process lists them too.
"""
import json
import os
import sqlite3
import sys
import traceback

from diis_result import answer, describe, finish
from diis_result import captured as captured_output

TAIL = 8000


def sqlite_file(settings_dict):
    """The file of an SQLite database, or None for an in-memory one."""
    name = str(settings_dict.get('NAME') or '')
    if not name or name == ':memory:' or 'mode=memory' in name:
        return None
    return name


def database(alias='default'):
    from django.db import connections
    conn = connections[alias]
    info = {'alias': alias, 'vendor': conn.vendor}
    if conn.vendor == 'sqlite':
        info['file'] = sqlite_file(conn.settings_dict)
        info['exists'] = bool(info['file']) and os.path.isfile(info['file'])
    return info


def plan_nodes(conn):
    from django.db.migrations.executor import MigrationExecutor
    executor = MigrationExecutor(conn)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return executor.loader, [(m.app_label, m.name) for m, backwards in plan if not backwards]


def pending(alias='default'):
    """What `migrate --plan` lists; a database that cannot be reached is an answer, not a failure."""
    import django
    django.setup()
    from django.db import connections
    info = database(alias)
    if info['vendor'] == 'sqlite' and info.get('file') and not info['exists']:
        # Connecting would create an empty file where the settings point: list from the code alone.
        from django.db.migrations.loader import MigrationLoader
        loader = MigrationLoader(None, ignore_no_migrations=True)
        nodes = [n for n in loader.graph.leaf_nodes()]
        order = []
        for leaf in nodes:
            for node in loader.graph.forwards_plan(leaf):
                if node not in order:
                    order.append(node)
        return {'ok': True, 'reachable': True, 'database': info, 'pending': ['%s.%s' % n for n in order],
                'note': 'the SQLite file does not exist yet'}
    conn = connections[alias]
    try:
        _, nodes = plan_nodes(conn)
    except Exception as exc:
        return {'ok': True, 'reachable': False, 'database': info, 'error': '%s: %s' % (type(exc).__name__, exc)}
    finally:
        conn.close()
    return {'ok': True, 'reachable': True, 'database': info, 'pending': ['%s.%s' % n for n in nodes]}


def reverse_commands(loader, applied):
    """Per app, `migrate <app> <the migration before this run's first one>` (or zero), last applied app first."""
    firsts = []
    for app, name in applied:
        if app not in [a for a, _ in firsts]:
            firsts.append((app, name))
    commands = []
    for app, name in reversed(firsts):
        parents = [p for p in loader.graph.node_map[(app, name)].parents if p.key[0] == app]
        target = parents[0].key[1] if parents else 'zero'
        commands.append({'app': app, 'target': target, 'argv': ['migrate', app, target]})
    return commands


def run_command(argv):
    """One management command as manage.py runs it; its exit code, never an exception."""
    from django.core.management import execute_from_command_line
    try:
        execute_from_command_line(['manage.py'] + list(argv))
        return 0
    except SystemExit as exc:
        if isinstance(exc.code, int) or exc.code is None:
            return exc.code or 0
        sys.stderr.write('%s\n' % exc.code)
        return 1


def command(argv):
    import django
    django.setup()
    code = run_command(argv)
    return {'ok': code == 0, 'exitCode': code}


def migrate():
    import django
    django.setup()
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder
    conn = connections['default']
    loader, planned = plan_nodes(conn)
    before = set(MigrationRecorder(conn).applied_migrations())
    code = 1
    try:
        code = run_command(['migrate', '--noinput'])
    except BaseException:
        traceback.print_exc()
    # Even after a failure: what did get applied is what someone may need to reverse.
    conn.close()
    after = set(MigrationRecorder(conn).applied_migrations())
    applied = [n for n in planned if n in after and n not in before]
    return {'ok': code == 0, 'exitCode': code, 'applied': ['%s.%s' % n for n in applied],
            'reverse': reverse_commands(loader, applied)}


def sqlite_copy(source, target):
    """sqlite3's online backup: a consistent copy whatever -wal/-shm hold, and a restore other readers survive."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def backup(part):
    import django
    django.setup()
    info = database()
    if info['vendor'] != 'sqlite' or not info.get('file'):
        return {'ok': True, 'database': info, 'skipped': 'not an SQLite file'}
    if not info['exists']:
        return {'ok': True, 'database': info, 'skipped': 'the database file does not exist yet'}
    os.makedirs(os.path.dirname(part['to']), exist_ok=True)
    if os.path.exists(part['to']):
        os.remove(part['to'])
    sqlite_copy(info['file'], part['to'])
    return {'ok': True, 'database': info, 'backup': part['to']}


def restore(part):
    sqlite_copy(part['from'], part['to'])
    return {'ok': True}


def captured(run):
    return captured_output(run, TAIL)


def main():
    spec = json.loads(sys.stdin.read())
    real_stdout = sys.stdout

    def emit(part, result, **extra):
        result['part'] = part
        result.update(extra)
        answer(real_stdout, result)
        real_stdout.flush()
        return result['ok']

    if 'restore' in spec:
        emit('restore', captured(lambda: restore(spec['restore'])))
        return
    # As wfastcgi does: the project folder first on sys.path, so the settings import as under IIS.
    sys.path.insert(0, os.getcwd())
    if spec.get('pending') and not emit('pending', captured(pending)):
        return
    if 'backup' in spec and not emit('backup', captured(lambda: backup(spec['backup']))):
        return
    if spec.get('migrate') and not emit('migrate', captured(migrate)):
        return
    for index, argv in enumerate(spec.get('commands', [])):
        result = captured(lambda: command(argv))
        if not emit('command', result, index=index, argv=argv):
            return


if __name__ == '__main__':
    main()
    finish()
