from __future__ import annotations

import contextlib

from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from calldeck.accounts.models import Role, User

# Where each role starts after logging in.
ROLE_HOME = {
    Role.AGENT: "calldeck-desk",
    Role.SUPERVISOR: "calldeck-kpi-today",
    Role.CAMPAIGN_MANAGER: "calldeck-campaigns",
    Role.DATA_ADMIN: "calldeck-campaigns",
}


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": _("Log in")}


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Log out; an agent is signed out of the desk first and the previewed lead given back."""
    from calldeck.desk.services import DeskRefused, desk_logout

    user = request.user
    if isinstance(user, User) and user.is_agent:
        # During a call or wrap-up the desk keeps its state; the session still ends.
        with contextlib.suppress(DeskRefused):
            desk_logout(agent=user)
    logout(request)
    return redirect("calldeck-login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    target = ROLE_HOME.get(Role(user.role)) if user.role in Role.values else None
    if target:
        return redirect(target)
    return render(request, "accounts/home.html")
