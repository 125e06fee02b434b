"""Backend of the IIS stand-in (iis-standin.ts): loads the app the way wfastcgi 3.0 does and serves it with waitress.

Run with the FastCGI registration's fullPath (the venv's python), cwd = the app's physicalPath and an environment
made only of the registration's environmentVariables. argv: port, app virtual path (e.g. /app), IIS site id.

What it repeats of wfastcgi (see src/python/scripts/preflight.py for the same rules): sys.path[0] becomes '.',
the web.config's appSettings join the environment and their PYTHONPATH is %VAR%-expanded, split on ';' and appended; WSGI_HANDLER is resolved by walking up dotted names,
calling parts that end in '()'; IIS sends the full URL path, so SCRIPT_NAME is blanked and then the app's path
(from APPL_MD_PATH) is moved from PATH_INFO to SCRIPT_NAME. It speaks HTTP to the stand-in, not FastCGI.
"""
import os
import re
import sys


def resolve_handler(handler_name):
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
        except ImportError:
            module_name, _, callable_name = module_name.rpartition('.')
            should_call = callable_name.endswith('()')
            attributes.insert(0, (callable_name[:-2] if should_call else callable_name, should_call))
    raise ValueError('"%s" could not be imported' % handler_name)


def app_settings(physical_path):
    """configuration/appSettings/add key=value of the web.config in the app's physical path, as wfastcgi reads it."""
    from xml.dom import minidom
    web_config = os.path.join(physical_path, 'web.config')
    found = {}
    if os.path.exists(web_config):
        doc = minidom.parse(web_config)
        for configuration in doc.getElementsByTagName('configuration'):
            for section in configuration.getElementsByTagName('appSettings'):
                for add in section.getElementsByTagName('add'):
                    key = add.getAttribute('key')
                    if key:
                        found[key.strip()] = add.getAttribute('value')
    return found


def iis_shaped(app, app_root, site_id, physical_path):
    """Rewrites waitress's environ into what wfastcgi hands the app under IIS."""
    script_name = os.environ.get('SCRIPT_NAME', app_root)

    def wrapped(environ, start_response):
        full_path = environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')
        environ['APPL_MD_PATH'] = '/LM/W3SVC/%s/ROOT%s' % (site_id, app_root)
        environ['APPL_PHYSICAL_PATH'] = physical_path.rstrip('\\/') + os.sep
        environ['SERVER_SOFTWARE'] = 'Microsoft-IIS/10.0'
        environ['PATH_INFO'] = full_path
        environ['SCRIPT_NAME'] = full_path if 'AllowPathInfoForScriptMappings' in os.environ else ''
        if full_path.lower().startswith(script_name.lower()):
            environ['SCRIPT_NAME'] = script_name
            environ['PATH_INFO'] = full_path[len(script_name):]
        return app(environ, start_response)

    return wrapped


def main():
    port, app_root, site_id = sys.argv[1], sys.argv[2].rstrip('/'), sys.argv[3]
    physical_path = os.getcwd()
    sys.path[0] = '.'
    # As wfastcgi's read_wsgi_handler: the app's web.config appSettings join the environment, and a PYTHONPATH
    # among them is %VAR%-expanded and appended (a registration PYTHONPATH is Python's own, read at start-up).
    settings = app_settings(physical_path)
    os.environ.update(settings)
    for key, value in settings.items():
        if key.lower() == 'pythonpath':
            expanded = re.sub(r'%(\w+?)%', lambda m: os.getenv(m.group(1), ''), value)
            sys.path.extend(p for p in expanded.split(';') if p)
    app = resolve_handler(os.environ.get('WSGI_HANDLER', ''))
    import waitress

    waitress.serve(iis_shaped(app, app_root, site_id, physical_path), listen='127.0.0.1:%s' % port, threads=4, _quiet=True)


main()
