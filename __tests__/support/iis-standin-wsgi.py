"""Backend of the IIS stand-in (iis-standin.mjs): loads the app the way wfastcgi 3.0 does and serves it with waitress.

Run with the FastCGI registration's fullPath (the venv's python), cwd = the app's physicalPath and an environment
made only of the registration's environmentVariables. argv: port.

What it repeats of wfastcgi (Python/Product/WFastCgi/wfastcgi.py in microsoft/PTVS; docs/windows-facts.md, the wfastcgi rows):
sys.path[0] becomes '.'; the web.config's appSettings (every <add>, nothing else: get_environment, lines 390-407) join
the environment and their PYTHONPATH is %VAR%-expanded, split on ';' and appended (read_wsgi_handler, 617-627);
WSGI_HANDLER is resolved by walking up dotted names, calling parts that end in '()'. Per request (main(), 826-840):
the whole URL path arrives in PATH_INFO, SCRIPT_NAME is emptied unless AllowPathInfoForScriptMappings is set, and
only a SCRIPT_NAME setting that prefixes the path (ignoring case) moves into SCRIPT_NAME. The app's virtual path
plays no part: an app below the site root without that setting sees its whole URL path. It speaks HTTP to the
stand-in, not FastCGI.
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


def as_wfastcgi_passes_it(app):
    """Rewrites waitress's environ (started without a prefix, so PATH_INFO holds the whole URL path) into wfastcgi's."""

    def wrapped(environ, start_response):
        url_path = environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')
        environ['APPL_PHYSICAL_PATH'] = os.getcwd().rstrip('\\/') + os.sep
        environ['SERVER_SOFTWARE'] = 'Microsoft-IIS/10.0'
        environ['PATH_INFO'] = url_path
        # With AllowPathInfoForScriptMappings wfastcgi keeps the front's SCRIPT_NAME; IIS's value there is not modelled.
        if 'AllowPathInfoForScriptMappings' not in os.environ:
            environ['SCRIPT_NAME'] = ''
        setting = os.environ.get('SCRIPT_NAME')
        if setting is not None and url_path[:len(setting)].lower() == setting.lower():
            environ['SCRIPT_NAME'], environ['PATH_INFO'] = setting, url_path[len(setting):]
        return app(environ, start_response)

    return wrapped


def main():
    port = sys.argv[1]
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

    waitress.serve(as_wfastcgi_passes_it(app), listen='127.0.0.1:%s' % port, threads=4, _quiet=True)


main()
