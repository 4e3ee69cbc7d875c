from django.urls import path

from calldeck.reports import views

urlpatterns = [
    path("today/", views.kpi_today, name="calldeck-kpi-today"),
]
