"""The live release's collected static files, shared into a new release before collectstatic runs.

A file is shared (hard link, same volume) only when the live release holds it with the very bytes of the source
collectstatic would copy: collectstatic then finds it unmodified and skips it, and copies every other file as it
always does. Its decision by modification time alone could keep a stale file (a wheel installs files with their
build time), so the bytes are compared here first. After the command, a shared file it neither skipped nor copied
again (a source now ignored or gone) is removed, so the folder holds what a fresh collectstatic would have written.

Shared only for Django's own collectstatic command and its two file system storages: they delete a target before
writing it, so a shared file is never written through, which would change the live release's file too. Any other
storage or command collects into an empty folder, as before.
"""
import os

COMMAND_MODULE = 'django.contrib.staticfiles.management.commands.collectstatic'
STORAGES = ('django.contrib.staticfiles.storage.StaticFilesStorage',
            'django.contrib.staticfiles.storage.ManifestStaticFilesStorage')
CHUNK = 1024 * 1024


def storage_name():
    from django.contrib.staticfiles.storage import staticfiles_storage
    # The lazy object answers __class__ with the class of the storage it stands for.
    cls = staticfiles_storage.__class__
    return '%s.%s' % (cls.__module__, cls.__qualname__)


def refusal(command):
    """Why the files cannot be shared with this command and storage, or None."""
    if type(command).__module__ != COMMAND_MODULE:
        return 'collectstatic is %s.%s, not Django\'s own' % (type(command).__module__, type(command).__qualname__)
    if not all(hasattr(command, name) for name in ('copied_files', 'unmodified_files')):
        return 'this collectstatic does not report which files it skipped'
    name = storage_name()
    if name not in STORAGES:
        return 'the static files storage %s may write a file in place' % name
    return None


def same_bytes(a, b):
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        while True:
            chunk = fa.read(CHUNK)
            if chunk != fb.read(CHUNK):
                return False
            if not chunk:
                return True


def sources():
    """Each prefixed path collectstatic would write, with its source file: the first finder that lists it wins."""
    from django.apps import apps
    from django.contrib.staticfiles.finders import get_finders
    ignore = list(getattr(apps.get_app_config('staticfiles'), 'ignore_patterns', ['CVS', '.*', '*~']))
    found = {}
    for finder in get_finders():
        for path, storage in finder.list(ignore):
            prefix = getattr(storage, 'prefix', None)
            prefixed = os.path.join(prefix, path) if prefix else path
            if prefixed in found:
                continue
            try:
                found[prefixed] = storage.path(path)
            except NotImplementedError:
                found[prefixed] = None
    return found


def share(static_root, live_root, linked):
    """Links into static_root each file live_root holds unchanged, adding its prefixed path to linked as it goes (a
    failure half-way still leaves the list of what was linked); returns why not all could be, or None."""
    if not os.path.isdir(live_root):
        return 'the live release has no static folder'
    for prefixed, source in sources().items():
        held = os.path.join(live_root, prefixed)
        target = os.path.join(static_root, prefixed)
        if source is None or os.path.islink(held) or not os.path.isfile(held) or os.path.lexists(target):
            continue
        try:
            if not same_bytes(source, held):
                continue
        except OSError:
            # Unreadable here: collectstatic copies it, and says so if it cannot.
            continue
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.link(held, target)
        except OSError as exc:
            # Another volume, no hard links, the link limit: the rest is copied, as without sharing.
            return 'the file system refused a hard link (%s)' % exc
        linked.append(prefixed)
    return None


def sweep(static_root, linked, command):
    """Removes the shared files collectstatic did not keep; returns how many it kept as they were."""
    kept = set(command.unmodified_files)
    written = set(command.copied_files) | set(getattr(command, 'symlinked_files', []))
    shared = 0
    for prefixed in linked:
        if prefixed in kept:
            shared += 1
        elif prefixed not in written:
            remove(static_root, prefixed)
    return shared


def remove(static_root, prefixed):
    """The file, then each folder above it that it leaves empty: a fresh collectstatic makes no empty folder."""
    static_root = os.path.normpath(static_root)
    path = os.path.join(static_root, prefixed)
    os.remove(path)
    folder = os.path.dirname(path)
    while os.path.normcase(folder) != os.path.normcase(static_root) and not os.listdir(folder):
        os.rmdir(folder)
        folder = os.path.dirname(folder)
