"""Runs `collectstatic --noinput` into the folder given as argv[1], whatever STATIC_ROOT the project sets.

The project's STATIC_ROOT points into its own tree; the release serves static files from its own folder, so the
setting is overridden here, before Django reads it and before the command runs.
"""
import sys

from django.conf import settings
from django.core.management import execute_from_command_line

settings.STATIC_ROOT = sys.argv[1]
execute_from_command_line(['manage.py', 'collectstatic', '--noinput'])
