from django.http import HttpRequest, HttpResponse
from django.urls import path


def _todo(request: HttpRequest) -> HttpResponse:  # replaced by the KPI page
    return HttpResponse("")


urlpatterns = [
    path("today/", _todo, name="calldeck-kpi-today"),
]
