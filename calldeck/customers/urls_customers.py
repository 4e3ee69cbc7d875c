from django.urls import path

from calldeck.customers import views

urlpatterns = [
    path("", views.customer_list, name="calldeck-customers"),
    path("<int:pk>/", views.customer_detail, name="calldeck-customer-detail"),
    path("<int:pk>/phones/", views.phone_add, name="calldeck-customer-phone-add"),
    path("<int:pk>/emails/", views.email_add, name="calldeck-customer-email-add"),
    path("<int:pk>/blocks/", views.block_add, name="calldeck-customer-block-add"),
    path(
        "<int:pk>/blocks/<int:block_pk>/lift/",
        views.block_lift,
        name="calldeck-customer-block-lift",
    ),
    path("<int:pk>/consent/", views.consent_record, name="calldeck-customer-consent"),
]
