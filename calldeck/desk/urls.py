from django.http import HttpRequest, HttpResponse
from django.urls import path


def _todo(request: HttpRequest) -> HttpResponse:  # replaced by the desk
    return HttpResponse("")


urlpatterns = [
    path("", _todo, name="calldeck-desk"),
]
