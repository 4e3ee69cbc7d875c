from django.urls import path

from calldeck.customers import segment_views as views

urlpatterns = [
    path("", views.segment_list, name="calldeck-segments"),
    path("new/", views.segment_create, name="calldeck-segment-create"),
    path("count/", views.segment_count, name="calldeck-segment-count"),
    path("<int:pk>/", views.segment_detail, name="calldeck-segment-detail"),
    path("<int:pk>/edit/", views.segment_edit, name="calldeck-segment-edit"),
    path("<int:pk>/delete/", views.segment_delete, name="calldeck-segment-delete"),
]
