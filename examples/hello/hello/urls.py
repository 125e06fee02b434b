from django.contrib import admin
from django.http import HttpResponse, JsonResponse
from django.urls import path


def index(request):
    return HttpResponse('Hello from Django', content_type='text/plain; charset=utf-8')


def health(request):
    return JsonResponse({'status': 'ok'})


urlpatterns = [
    path('', index, name='index'),
    path('health', health, name='health'),
    path('admin/', admin.site.urls),
]
