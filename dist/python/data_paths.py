"""Settings whose files would be lost with the release: the `data` part of release_checks.py.

Every release folder is replaced by the next deploy and deleted by retention, and the pool identity may only read
it. A setting that makes Django write files inside the release, other than through a shared path (a link into
deploy-root/shared/), loses them; the part names each such setting and the input that keeps them. Paths are
resolved as the app resolves them (relative to the working folder, the release) and then through every link:
os.path.realpath follows symbolic links, and on Windows junctions too (Python 3.8+).
"""
import os

SQLITE = 'django.db.backends.sqlite3'
FILE_CACHE = 'django.core.cache.backends.filebased.FileBasedCache'
FILE_SESSIONS = ('django.contrib.sessions.backends.file',)


def _real(path):
    return os.path.normcase(os.path.realpath(path))


def _inside(child, parent):
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def _rel(path, release):
    return os.path.relpath(path, release).replace(os.sep, '/')


def _fix_for_folder(rel):
    return 'add `%s` to shared-dirs' % rel


def _fix_for_database(rel):
    folder = rel.rsplit('/', 1)[0] if '/' in rel else None
    if folder:
        return 'add `%s` to shared-dirs (SQLite writes its journal beside the database)' % folder
    return ('move it into a folder of the project (e.g. data/%s) and add that folder to shared-dirs, or add `%s` '
            'to shared-files' % (rel, rel))


def candidates(settings):
    """(setting name, path, how to fix given the path relative to the release) for each file path Django writes."""
    found = []
    media = getattr(settings, 'MEDIA_ROOT', '')
    if media:
        found.append(('MEDIA_ROOT', str(media), _fix_for_folder))
    for alias, db in sorted((getattr(settings, 'DATABASES', {}) or {}).items()):
        name = db.get('NAME')
        if db.get('ENGINE') == SQLITE and name and str(name) != ':memory:' and not str(name).startswith('file:'):
            found.append(("DATABASES['%s']['NAME']" % alias, str(name), _fix_for_database))
    temp = getattr(settings, 'FILE_UPLOAD_TEMP_DIR', None)
    if temp:
        found.append(('FILE_UPLOAD_TEMP_DIR', str(temp), _fix_for_folder))
    for alias, cache in sorted((getattr(settings, 'CACHES', {}) or {}).items()):
        if cache.get('BACKEND') == FILE_CACHE and cache.get('LOCATION'):
            found.append(("CACHES['%s']['LOCATION']" % alias, str(cache['LOCATION']), _fix_for_folder))
    if getattr(settings, 'SESSION_ENGINE', '') in FILE_SESSIONS and getattr(settings, 'SESSION_FILE_PATH', None):
        found.append(('SESSION_FILE_PATH', str(settings.SESSION_FILE_PATH), _fix_for_folder))
    return found


def check_data_paths(part):
    from django.conf import settings
    settings.INSTALLED_APPS  # imports the settings module
    release_dir = os.path.abspath(part['releaseDir'])
    release = _real(release_dir)
    shared = _real(part['sharedDir'])
    problems = []
    for name, value, fix in candidates(settings):
        where = os.path.abspath(os.path.join(release_dir, value))
        real = _real(where)
        if _inside(real, shared) or not _inside(real, release):
            continue
        # Named as the settings spell it where they stay inside the release; resolved only where a link leads out.
        plain = os.path.normcase(where)
        rel = _rel(where, release_dir) if _inside(plain, os.path.normcase(release_dir)) else _rel(real, release)
        problems.append({
            'setting': name,
            'path': where,
            'message': '%s resolves to %s, inside the release, which the next deploy replaces: %s' % (
                name, where, fix(rel)),
        })
    return {'ok': not problems, 'problems': problems, 'media': media_folder(settings, release_dir, shared)}


def media_folder(settings, release_dir, shared):
    """Where MEDIA_ROOT is as the app's URL space sees it: its path in the release, and whether a link takes it
    into shared/ (then IIS can serve it through the release, src/shared/media.ts)."""
    media = getattr(settings, 'MEDIA_ROOT', '')
    if not media:
        return None
    where = os.path.abspath(os.path.join(release_dir, str(media)))
    rel = os.path.relpath(where, release_dir)
    if rel == os.curdir or rel.startswith(os.pardir):
        return None
    return {'rel': rel.replace(os.sep, '/'), 'shared': _inside(_real(where), shared)}
