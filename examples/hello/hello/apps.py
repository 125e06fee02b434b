from django.apps import AppConfig


class HelloConfig(AppConfig):
    name = 'hello'

    def ready(self):
        # Registers the deploy checks as a side effect of the import.
        from . import checks  # noqa: F401
