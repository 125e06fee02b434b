from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def secret_key_from_environment(app_configs, **kwargs):
    if getattr(settings, 'SECRET_KEY_IS_EPHEMERAL', False):
        return [
            Warning(
                'DJANGO_SECRET_KEY is not set, so each process made up its own random SECRET_KEY.',
                hint='Sessions and CSRF tokens break across FastCGI instances and restarts; '
                'pass DJANGO_SECRET_KEY as a secret environment variable.',
                id='hello.W001',
            )
        ]
    return []
