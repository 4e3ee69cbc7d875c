from django.urls import path

from calldeck.customers import import_views as views

urlpatterns = [
    path("", views.import_list, name="calldeck-imports"),
    path("new/", views.import_new, name="calldeck-import-new"),
    path("new/columns/", views.import_mapping, name="calldeck-import-mapping"),
    path("<int:pk>/", views.import_detail, name="calldeck-import-detail"),
    path("<int:pk>/progress/", views.import_progress, name="calldeck-import-progress"),
    path("<int:pk>/report/", views.import_report, name="calldeck-import-report"),
]
