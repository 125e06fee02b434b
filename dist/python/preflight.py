"""One request through the app's WSGI handler, set up the way wfastcgi 3.0 sets it up under IIS.

Imported by release_checks.py, which runs in the venv's python with cwd = the release folder (IIS's
APPL_PHYSICAL_PATH) and the environment the FastCGI registration gives (DJANGO_SETTINGS_MODULE, PYTHONPATH,
WSGI_HANDLER, WSGI_LOG, the app's variables). The request (path, host, app path) arrives as JSON on stdin, so nothing
of it, and none of the environment, is in argv.

What wfastcgi does, and this script repeats:
- chdir to APPL_PHYSICAL_PATH and replace sys.path[0] (its own folder) with '.';
- PYTHONPATH from its settings: %VAR% expanded, split on ';', appended to sys.path;
- SCRIPT_NAME (docs/windows-facts.md, wf-script-name): IIS sends the full URL path in PATH_INFO, so
  wfastcgi blanks SCRIPT_NAME unless AllowPathInfoForScriptMappings is set; then, only when a SCRIPT_NAME setting
  exists (environment or appSettings) and PATH_INFO starts with it, compared case-insensitively, it moves that many
  characters from PATH_INFO to SCRIPT_NAME, which takes the setting's own spelling. Nothing else sets it: without
  the setting an app below the site root sees its whole URL path;
- WSGI_HANDLER: the text after the last '.' names an attribute of the module before it, called when it ends in
  '()'. When the module cannot be imported, the last dotted part moves from the module name to the attribute
  chain (a.b.c -> module a.b, attribute c; then module a, attributes b.c) until an import succeeds; attributes
  are then looked up in order, each called if it ended in '()'. No module left: '"<name>" could not be imported'.
- stdout and stderr of the app are captured, not passed to IIS.
"""
import io
import logging
import os
import re
import sys
import traceback

from diis_result import describe

BODY_LIMIT = 2048


def resolve_handler(handler_name, import_errors):
    if not handler_name:
        raise Exception('WSGI_HANDLER env var must be set')
    module_name, _, callable_name = handler_name.rpartition('.')
    should_call = callable_name.endswith('()')
    attributes = [(callable_name[:-2] if should_call else callable_name, should_call)]
    while module_name:
        try:
            handler = __import__(module_name, fromlist=[attributes[0][0]])
            for name, call in attributes:
                handler = getattr(handler, name)
                if call:
                    handler = handler()
            return handler
        except ImportError as exc:
            # wfastcgi swallows these while it walks up; kept here because they hold the real cause.
            import_errors.append({'errors': describe(exc), 'traceback': traceback.format_exc()})
            module_name, _, callable_name = module_name.rpartition('.')
            should_call = callable_name.endswith('()')
            attributes.insert(0, (callable_name[:-2] if should_call else callable_name, should_call))
    raise ValueError('"%s" could not be imported' % handler_name)


class Capture(logging.Handler):
    """Django turns request exceptions and DisallowedHost into responses; its loggers still say what happened."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        entry = {'logger': record.name, 'level': record.levelname, 'message': record.getMessage()}
        if record.exc_info and record.exc_info[1] is not None:
            entry['errors'] = describe(record.exc_info[1])
            entry['traceback'] = ''.join(traceback.format_exception(*record.exc_info))
        self.records.append(entry)


def base_environ(spec, physical_path):
    app_path = spec['appPath'].rstrip('/')
    path, _, query = spec['path'].partition('?')
    full_path = app_path + path
    host = spec['host']
    port = str(spec['port'])
    default_port = '443' if spec['scheme'] == 'https' else '80'
    return {
        'REQUEST_METHOD': 'GET',
        # IIS sends the full URL path in both for a wildcard handler mapping.
        'PATH_INFO': full_path,
        'SCRIPT_NAME': full_path,
        'QUERY_STRING': query,
        'SERVER_NAME': host,
        'SERVER_PORT': port,
        'SERVER_PROTOCOL': 'HTTP/1.1',
        'SERVER_SOFTWARE': 'Microsoft-IIS/10.0',
        'GATEWAY_INTERFACE': 'CGI/1.1',
        'HTTP_HOST': host if port == default_port else '%s:%s' % (host, port),
        'HTTPS': 'on' if spec['scheme'] == 'https' else 'off',
        'REMOTE_ADDR': '127.0.0.1',
        'REMOTE_HOST': '127.0.0.1',
        'APPL_PHYSICAL_PATH': physical_path.rstrip('\\/') + os.sep,
        'wsgi.input': io.BytesIO(b''),
        'wsgi.version': (1, 0),
        'wsgi.url_scheme': spec['scheme'],
        'wsgi.multiprocess': True,
        'wsgi.multithread': False,
        'wsgi.run_once': False,
    }


_started = []


def as_wfastcgi_starts():
    """wfastcgi's chdir and sys.path, once per process: release_checks.py calls it before the settings are imported."""
    if _started:
        return
    _started.append(True)
    os.chdir(os.getcwd())
    sys.path[0] = '.'
    for key, value in list(os.environ.items()):
        if key.lower() == 'pythonpath':
            expanded = re.sub(r'%(\w+?)%', lambda m: os.getenv(m.group(1), ''), value)
            sys.path.extend(p for p in expanded.split(';') if p)


def request(spec, captured_out, captured_err):
    result = {'ok': False, 'importErrors': [], 'logs': []}
    as_wfastcgi_starts()
    physical_path = os.getcwd()

    environ = base_environ(spec, physical_path)
    environ['wsgi.errors'] = captured_err

    handler_name = os.environ.get('WSGI_HANDLER', '')
    result['handler'] = handler_name
    try:
        handler = resolve_handler(handler_name, result['importErrors'])
    except Exception as exc:
        result['stage'] = 'handler'
        result['errors'] = describe(exc)
        result['traceback'] = traceback.format_exc()
        return result

    capture = Capture()
    for name in ('django.request', 'django.security'):
        logging.getLogger(name).addHandler(capture)

    # The SCRIPT_NAME setting is wfastcgi's only source of the split (docs/windows-facts.md, wf-script-name).
    if 'AllowPathInfoForScriptMappings' not in os.environ:
        environ['SCRIPT_NAME'] = ''
    if 'SCRIPT_NAME' in os.environ and environ['PATH_INFO'].lower().startswith(os.environ['SCRIPT_NAME'].lower()):
        environ['SCRIPT_NAME'] = os.environ['SCRIPT_NAME']
        environ['PATH_INFO'] = environ['PATH_INFO'][len(environ['SCRIPT_NAME']):]
    result['scriptName'] = environ['SCRIPT_NAME']
    result['pathInfo'] = environ['PATH_INFO']

    started = {}

    def start_response(status, headers, exc_info=None):
        started['status'] = status
        started['headers'] = headers

    try:
        body = b''
        response = handler(environ, start_response)
        try:
            for part in response:
                if len(body) < BODY_LIMIT:
                    body += part
        finally:
            if hasattr(response, 'close'):
                response.close()
    except Exception as exc:
        result['stage'] = 'request'
        result['errors'] = describe(exc)
        result['traceback'] = traceback.format_exc()
        result['logs'] = capture.records
        return result

    result['ok'] = True
    result['status'] = int(started['status'].split(' ', 1)[0])
    result['headers'] = [[k, v] for k, v in started['headers']]
    result['body'] = body[:BODY_LIMIT].decode('utf-8', 'replace')
    result['logs'] = capture.records
    result['static'] = rendered_static(spec)  # static URLs as rendered (see rendered_static)
    return result


# ---- static URLs as pages render them (django-iis-deploy: docs/static-url.md) -------------------------------------
def rendered_static(spec):
    """STATIC_URL and static(<collected file>) as the request just served renders them.

    Called right after the request, in its thread: Django's WSGI handler set the script prefix from the request's
    SCRIPT_NAME (or FORCE_SCRIPT_NAME), and settings.STATIC_URL keeps the prefix of its first read, so these are the
    URLs the app's pages link under IIS.
    """
    try:
        from django.conf import settings
        from django.templatetags.static import static
        rendered = {'staticUrl': settings.STATIC_URL}
        if spec.get('staticFile'):
            rendered['fileUrl'] = static(spec['staticFile'])
        return rendered
    except Exception as exc:
        return {'errors': describe(exc)}
# ---- end of static URLs ------------------------------------------------------------------------------------------
