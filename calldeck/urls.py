from django.contrib import admin
from django.urls import include, path

from calldeck.api.api import api

urlpatterns = [
    path("", include("calldeck.accounts.urls")),
    path("desk/", include("calldeck.desk.urls")),
    path("campaigns/", include("calldeck.campaigns.urls")),
    path("customers/", include("calldeck.customers.urls")),
    path("reports/", include("calldeck.reports.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("ops/admin/", admin.site.urls),
]
