"""The checks of `manage.py check --deploy`, as JSON: the caller turns warnings into annotations, errors into a failure."""
import sys
import traceback

from diis_result import answer, describe




def main():
    real_stdout = sys.stdout
    try:
        import django
        from django.core import checks

        django.setup()
        # What the check command does: every registered check plus the deploy ones, minus silenced messages.
        messages = [m for m in checks.run_checks(include_deployment_checks=True) if not m.is_silenced()]
        result = {'ok': True, 'messages': [
            {'id': m.id or '', 'level': m.level, 'serious': m.is_serious(), 'message': str(m.msg),
             'hint': str(m.hint) if m.hint else '', 'text': str(m)}
            for m in messages
        ]}
    except Exception as exc:
        result = {'ok': False, 'errors': describe(exc), 'traceback': traceback.format_exc()}
    answer(real_stdout, result)
    real_stdout.flush()


main()
