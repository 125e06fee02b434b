"""Every Python step of staging a release, in one process that imports Django once.

Reads a JSON spec on stdin naming the parts to run, runs them in this order and stops at the first that fails:
- settings: the settings the deploy needs, as written (LazySettings prefixes a relative STATIC_URL with the script
  prefix of the moment); with handlerFallback, WSGI_HANDLER is then set the way the release's appSettings will set it
  (WSGI_APPLICATION, else the fallback: src/plan/desired.ts, wsgiHandler);
- data: the settings whose files would be lost with the release (data_paths.py);
- collectstatic: `collectstatic --noinput` into collectstatic.staticRoot, whatever STATIC_ROOT the project sets,
  after sharing in the files of collectstatic.shareFrom that are unchanged (static_reuse.py);
- check: the checks of `manage.py check --deploy`;
- preflight: one request through WSGI_HANDLER as wfastcgi makes it (preflight.py);
- migrations: the migrations `migrate --plan` would apply (diis_migrations.py), answered even after a failed
  preflight, since the deploy reports them either way.
Each part answers on its own marker line on the real stdout as soon as it ends, so a crash still names the part
that did not answer; what the app prints is captured per part.
"""
import io
import json
import os
import sys
import traceback

import static_reuse
from data_paths import check_data_paths
from diis_migrations import pending
from diis_result import answer, describe, finish
from diis_result import captured as captured_output
from preflight import as_wfastcgi_starts, request

SETTINGS = ['WSGI_APPLICATION', 'STATIC_URL', 'STATIC_ROOT', 'INSTALLED_APPS', 'MIDDLEWARE',
            'AUTHENTICATION_BACKENDS', 'ALLOWED_HOSTS', 'DEBUG', 'FORCE_SCRIPT_NAME', 'MEDIA_URL']
ADMIN_CSS = 'admin/css/base.css'
TAIL = 4000


def plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def read_settings(spec):
    from django.conf import settings
    settings.INSTALLED_APPS  # imports the settings module
    raw = getattr(settings, '_wrapped', settings)
    result = {'ok': True, 'settings': {name: plain(getattr(raw, name, None)) for name in SETTINGS}}
    if spec.get('handlerFallback'):
        # Set before anything imports the handler, as wfastcgi sets its appSettings before the first request.
        os.environ['WSGI_HANDLER'] = getattr(raw, 'WSGI_APPLICATION', None) or spec['handlerFallback']
        result['handler'] = os.environ['WSGI_HANDLER']
    return result


def collected(root):
    files = []
    for folder, _, names in os.walk(root):
        for name in names:
            files.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, '/'))
    return sorted(files)


def pick_static_file(files):
    """The rule of src/verify/static.ts (pickStaticFile); the caller checks that both picked the same file."""
    css = [f for f in files if f.lower().endswith('.css')]
    return ADMIN_CSS if ADMIN_CSS in files else (css[0] if css else (files[0] if files else None))


def collectstatic(part):
    import django
    from django.conf import settings
    from django.core.management import ManagementUtility
    # The release serves static files from its own folder, so STATIC_ROOT points there for this command only.
    raw = getattr(settings, '_wrapped', settings)
    original = getattr(raw, 'STATIC_ROOT', None)
    settings.STATIC_ROOT = part['staticRoot']
    argv = ['manage.py', 'collectstatic', '--noinput']
    code = 0
    result = {}
    try:
        # What execute_from_command_line does, with the command at hand: it says which files it skipped.
        django.setup()
        command = ManagementUtility(argv).fetch_command('collectstatic')
        linked = []
        if part.get('shareFrom'):
            try:
                why = static_reuse.refusal(command) or static_reuse.share(part['staticRoot'], part['shareFrom'], linked)
            except Exception as exc:
                # Sharing only saves time: whatever it could not do, collectstatic copies.
                why = 'sharing stopped: %s: %s' % (type(exc).__name__, exc)
            if why:
                result['notShared'] = why
        command.run_from_argv(argv)
        if linked:
            result['shared'] = static_reuse.sweep(part['staticRoot'], linked, command)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            sys.stderr.write('%s\n' % exc.code)
    except Exception:
        traceback.print_exc()
        code = 1
    finally:
        settings.STATIC_ROOT = original
    result.update({'ok': code == 0, 'exitCode': code})
    return result


def check():
    import django
    from django.core import checks
    django.setup()
    # What the check command does: every registered check plus the deploy ones, minus silenced messages.
    messages = [m for m in checks.run_checks(include_deployment_checks=True) if not m.is_silenced()]
    return {'ok': not any(m.is_serious() for m in messages), 'messages': [
        {'id': m.id or '', 'level': m.level, 'serious': m.is_serious(), 'message': str(m.msg),
         'hint': str(m.hint) if m.hint else '', 'text': str(m)}
        for m in messages
    ]}


def forget_earlier_parts():
    """What collectstatic and the checks left cached, so the request starts as a fresh worker's first one does.

    LazySettings keeps STATIC_URL and MEDIA_URL with the script prefix of their first read, and the storages keep
    the STATIC_ROOT they were built with; under IIS the first request is what reads them first (docs/static-url.md).
    """
    if 'django' not in sys.modules:
        return
    from django.conf import settings
    from django.utils.functional import empty
    for name in ('STATIC_URL', 'MEDIA_URL'):
        settings.__dict__.pop(name, None)
    storages = []
    if 'django.contrib.staticfiles.storage' in sys.modules:
        storages.append(sys.modules['django.contrib.staticfiles.storage'].staticfiles_storage)
    if 'django.core.files.storage' in sys.modules:
        storages.append(sys.modules['django.core.files.storage'].default_storage)
    for storage in storages:
        storage._wrapped = empty


def captured(run):
    return captured_output(run, TAIL)


def main():
    spec = json.loads(sys.stdin.read())
    real_stdout = sys.stdout
    # As wfastcgi does before it imports anything of the app: the settings see the worker's sys.path.
    as_wfastcgi_starts()

    def emit(part, result):
        result['part'] = part
        answer(real_stdout, result)
        real_stdout.flush()
        return result['ok']

    if 'settings' in spec and not emit('settings', captured(lambda: read_settings(spec))):
        return
    if 'data' in spec and not emit('data', captured(lambda: check_data_paths(spec['data']))):
        return
    files = None
    if 'collectstatic' in spec:
        part = spec['collectstatic']
        result = captured(lambda: collectstatic(part))
        if result['ok']:
            files = collected(part['staticRoot']) if os.path.isdir(part['staticRoot']) else []
            result['files'] = files
        if not emit('collectstatic', result):
            return
    if 'check' in spec and not emit('check', captured(check)):
        return
    if 'preflight' in spec:
        request_spec = dict(spec['preflight'])
        if files is not None and 'staticFile' not in request_spec:
            picked = pick_static_file(files)
            if picked:
                request_spec['staticFile'] = picked
        forget_earlier_parts()
        out, err = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr = out, err
        try:
            result = request(request_spec, out, err)
        except BaseException as exc:
            result = {'ok': False, 'stage': 'preflight', 'errors': describe(exc), 'traceback': traceback.format_exc()}
        finally:
            sys.stdout, sys.stderr = real_stdout, sys.__stderr__
        result['stdout'] = out.getvalue()[-TAIL:]
        result['stderr'] = err.getvalue()[-TAIL:]
        if 'staticFile' in request_spec:
            result['staticFile'] = request_spec['staticFile']
        emit('preflight', result)
    if spec.get('migrations'):
        emit('migrations', captured(pending))


main()
finish()
