"""Customer data pages: customers and their profiles, segments, imports.

Each group of pages has its own URL module and views module.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("calldeck.customers.urls_customers")),
    path("segments/", include("calldeck.customers.urls_segments")),
    path("imports/", include("calldeck.customers.urls_imports")),
]
