from django.urls import path

from calldeck.accounts import views

urlpatterns = [
    path("", views.home, name="calldeck-home"),
    path("login/", views.LoginView.as_view(), name="calldeck-login"),
    path("logout/", views.logout_view, name="calldeck-logout"),
]
