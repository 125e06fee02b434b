"""WSGI entry point: IIS (wfastcgi's WSGI_HANDLER) or waitress import `hello.wsgi.application`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hello.settings')

application = get_wsgi_application()
