from django.http import HttpRequest, HttpResponse
from django.urls import path


def _todo(request: HttpRequest) -> HttpResponse:  # replaced by the campaign pages
    return HttpResponse("")


urlpatterns = [
    path("", _todo, name="calldeck-campaigns"),
    path("assignments/", _todo, name="calldeck-assignments"),
]
