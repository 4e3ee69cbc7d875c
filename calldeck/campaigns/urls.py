from django.urls import path

from calldeck.campaigns import views

urlpatterns = [
    path("", views.campaign_list, name="calldeck-campaigns"),
    path("new/", views.campaign_create, name="calldeck-campaign-create"),
    path("<int:pk>/", views.campaign_detail, name="calldeck-campaign-detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="calldeck-campaign-edit"),
    path("<int:pk>/status/", views.campaign_transition, name="calldeck-campaign-transition"),
    path("<int:pk>/windows/", views.calling_windows_update, name="calldeck-campaign-windows"),
    path("<int:pk>/retry-rules/", views.retry_rules_update, name="calldeck-campaign-retry-rules"),
    path("assignments/", views.assignments, name="calldeck-assignments"),
    path("<int:pk>/assignments/", views.assignment_set, name="calldeck-assignment-set"),
    path(
        "assignments/<int:pk>/remove/",
        views.assignment_remove,
        name="calldeck-assignment-remove",
    ),
]
