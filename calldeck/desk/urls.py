from django.urls import path

from calldeck.desk import views

urlpatterns = [
    path("", views.desk, name="calldeck-desk"),
    path("panel/", views.panel, name="calldeck-desk-panel"),
    path("act/<slug:name>/", views.act, name="calldeck-desk-act"),
    path("wrapup/", views.wrapup, name="calldeck-desk-wrapup"),
]
