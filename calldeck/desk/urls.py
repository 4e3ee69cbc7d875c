from django.urls import path

from calldeck.desk import views

urlpatterns = [
    path("", views.desk, name="calldeck-desk"),
    path("panel/", views.panel, name="calldeck-desk-panel"),
    path("act/<slug:name>/", views.act, name="calldeck-desk-act"),
    path("wrapup/", views.wrapup, name="calldeck-desk-wrapup"),
    path("customer/add/<slug:what>/", views.customer_add, name="calldeck-desk-customer-add"),
    path("customer/history/", views.customer_history, name="calldeck-desk-customer-history"),
]
