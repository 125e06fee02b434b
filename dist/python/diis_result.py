"""How the deploy's Python scripts answer: one JSON line after a marker on the real stdout (the app may print too)."""
import gc
import io
import json
import sys
import traceback

MARKER = '@@django-iis-deploy:result@@'


def describe(exc):
    """The exception and its causes, so the caller can name the module that failed to import."""
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append({'type': type(exc).__name__, 'message': str(exc), 'name': getattr(exc, 'name', None)})
        exc = exc.__cause__ or exc.__context__
    return chain


def answer(stream, result):
    stream.write(MARKER + json.dumps(result) + '\n')


def captured(run, tail):
    """Runs one part with the app's stdout and stderr captured (their last `tail` characters kept); an exception
    becomes the part's failure."""
    out, err = io.StringIO(), io.StringIO()
    sys.stdout, sys.stderr = out, err
    try:
        result = run()
    except BaseException as exc:
        result = {'ok': False, 'errors': describe(exc), 'traceback': traceback.format_exc()}
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    result.setdefault('stdout', out.getvalue()[-tail:])
    result.setdefault('stderr', err.getvalue()[-tail:])
    return result


def finish():
    """The script's last call: closes the app's database connections, then freezes every object the run made.

    The interpreter's final collection walks all of Django's objects, about 0.2 s of a 0.7 s release check on the
    bench machine (npm run bench); frozen objects are left out of it. The connections are closed first because a
    frozen one is never collected.
    """
    db = sys.modules.get('django.db')
    if db is not None:
        try:
            db.connections.close_all()
        except Exception:  # the answers are out: a connection that fails to close changes none of them
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()
