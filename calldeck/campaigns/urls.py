from django.urls import path

from calldeck.campaigns import list_views, views

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
    # Lists: loading customers, the pilot, the daily lists (campaigns.list_views).
    path("<int:pk>/load/", list_views.list_load_page, name="calldeck-campaign-load"),
    path("<int:pk>/pilot/draw/", list_views.pilot_draw, name="calldeck-campaign-pilot-draw"),
    path(
        "<int:pk>/pilot/roll-out/",
        list_views.pilot_roll_out,
        name="calldeck-campaign-pilot-roll-out",
    ),
    path("<int:pk>/daily-rule/", list_views.daily_rule_update, name="calldeck-campaign-daily-rule"),
    path(
        "<int:pk>/daily-lists/build/",
        list_views.daily_build_now,
        name="calldeck-campaign-daily-build",
    ),
]
