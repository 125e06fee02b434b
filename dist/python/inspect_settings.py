"""Prints the Django settings the deploy needs, as one JSON line after a marker (the app may print too)."""
import sys
import traceback

from diis_result import answer, describe

NAMES = ['WSGI_APPLICATION', 'STATIC_URL', 'STATIC_ROOT', 'INSTALLED_APPS', 'MIDDLEWARE',
         'AUTHENTICATION_BACKENDS', 'ALLOWED_HOSTS', 'DEBUG', 'FORCE_SCRIPT_NAME']



def plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def main():
    real_stdout = sys.stdout
    try:
        from django.conf import settings
        settings.INSTALLED_APPS  # imports the settings module
        # As written in the settings: LazySettings prefixes a relative STATIC_URL with the script prefix of the moment.
        raw = getattr(settings, '_wrapped', settings)
        result = {'ok': True, 'settings': {name: plain(getattr(raw, name, None)) for name in NAMES}}
    except Exception as exc:
        result = {'ok': False, 'errors': describe(exc), 'traceback': traceback.format_exc()}
    answer(real_stdout, result)
    real_stdout.flush()


main()
