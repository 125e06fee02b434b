"""How the deploy's Python scripts answer: one JSON line after a marker on the real stdout (the app may print too)."""
import json

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
