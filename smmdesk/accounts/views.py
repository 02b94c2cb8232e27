from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smmdesk.accounts import actions
from smmdesk.accounts.access import public_view, user_view, workspace_view
from smmdesk.accounts.forms import (
    AccountForm,
    ApiTokenForm,
    InvitationForm,
    LoginForm,
    RoleForm,
    SignupForm,
    WorkspaceForm,
)
from smmdesk.accounts.models import AuditEvent, Invitation, Membership, User
from smmdesk.lib.redirects import local_path


def _safe_next(request, fallback="core:home"):
    return local_path(request, request.POST.get("next") or request.GET.get("next")) or reverse_lazy(fallback)


@public_view
def login(request):
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.check_login(request, form.cleaned_data["email"], form.cleaned_data["password"])
        except actions.ActionError as exc:
            form.add_error(None, exc.message)
        else:
            auth_login(request, user)
            return redirect(_safe_next(request))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=400 if form.errors else 200,
    )


@public_view
@require_POST
def logout(request):
    if request.user.is_authenticated:
        actions.audit(AuditEvent.Action.LOGOUT, actor=request.user, request=request)
    auth_logout(request)
    return redirect("accounts:login")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        actions.audit(
            AuditEvent.Action.PASSWORD_RESET, email=form.cleaned_data["email"], request=self.request
        )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        actions.audit(AuditEvent.Action.PASSWORD_CHANGED, actor=form.user, request=self.request, via="reset")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:me")

    def form_valid(self, form):
        response = super().form_valid(form)
        actions.audit(AuditEvent.Action.PASSWORD_CHANGED, actor=self.request.user, request=self.request)
        messages.success(self.request, _("Your password was changed."))
        return response


password_reset = public_view(PasswordResetView.as_view())
password_reset_done = public_view(
    auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
)
password_reset_confirm = public_view(PasswordResetConfirmView.as_view())
password_reset_complete = public_view(
    auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html")
)
password_change = user_view(PasswordChangeView.as_view())


@user_view
def me(request):
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        response = redirect("accounts:me")
        actions.set_language(request, response, form.cleaned_data["language"])
        messages.success(request, _("Saved."))
        return response
    tokens = request.user.api_tokens.filter(revoked_at__isnull=True).order_by("-created_at")
    return render(
        request,
        "accounts/me.html",
        {"form": form, "tokens": tokens, "token_form": ApiTokenForm()},
        status=400 if form.errors else 200,
    )


@user_view
@require_POST
def token_create(request):
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        tokens = request.user.api_tokens.filter(revoked_at__isnull=True)
        return render(
            request,
            "accounts/me.html",
            {"form": AccountForm(instance=request.user), "tokens": tokens, "token_form": form},
            status=400,
        )
    token, raw = actions.create_api_token(request.user, form.cleaned_data["name"], request=request)
    # Shown once: only the hash is stored.
    return render(request, "accounts/token_created.html", {"token": token, "raw": raw})


@user_view
@require_POST
def token_revoke(request, pk):
    if actions.revoke_api_token(request.user, pk, request=request):
        messages.success(request, _("The token was revoked."))
    return redirect("accounts:me")


@user_view
def workspace_new(request):
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = actions.create_workspace(
                request.user, form.cleaned_data["name"], form.cleaned_data["slug"], form.cleaned_data["city"]
            )
        except actions.ActionError as exc:
            form.add_error(exc.field, exc.message)
        else:
            return redirect("business:profile", slug=workspace.slug)
    return render(request, "accounts/workspace_new.html", {"form": form}, status=400 if form.errors else 200)


@workspace_view("members.view", write="members.manage")
def members(request):
    form = InvitationForm(request.POST or None)
    invite_link = None
    if request.method == "POST":
        if form.is_valid():
            try:
                _invitation, raw = actions.invite(
                    request.workspace,
                    request.user,
                    form.cleaned_data["email"],
                    form.cleaned_data["role"],
                    request=request,
                )
            except actions.ActionError as exc:
                form.add_error(exc.field, exc.message)
            else:
                invite_link = request.build_absolute_uri(reverse_lazy("accounts:invitation", args=[raw]))
                form = InvitationForm()
    context = {
        "tab": "members",
        "active_section": "settings",
        "form": form,
        "invite_link": invite_link,
        "memberships": request.workspace.memberships.select_related("user").order_by("user__email"),
        "invitations": [
            i
            for i in Invitation.objects.filter(workspace=request.workspace).order_by("-created_at")
            if i.is_open
        ],
        "role_form": RoleForm(),
    }
    return render(request, "accounts/members.html", context, status=400 if form.errors else 200)


@workspace_view("members.manage")
@require_POST
def member_role(request, pk):
    get_object_or_404(Membership, workspace=request.workspace, pk=pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            actions.change_role(
                request.workspace, request.user, pk, form.cleaned_data["role"], request=request
            )
            messages.success(request, _("The role was changed."))
        except actions.ActionError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Unknown role."))
    return redirect("accounts:members", slug=request.workspace.slug)


@workspace_view("members.manage")
@require_POST
def member_remove(request, pk):
    get_object_or_404(Membership, workspace=request.workspace, pk=pk)
    try:
        actions.remove_member(request.workspace, request.user, pk, request=request)
        messages.success(request, _("The member was removed."))
    except actions.ActionError as exc:
        messages.error(request, exc.message)
    return redirect("accounts:members", slug=request.workspace.slug)


@workspace_view("members.manage")
@require_POST
def invitation_revoke(request, pk):
    get_object_or_404(Invitation, workspace=request.workspace, pk=pk)
    actions.revoke_invitation(request.workspace, pk)
    return redirect("accounts:members", slug=request.workspace.slug)


@public_view
def invitation(request, token):
    invitation = actions.open_invitation(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    user = request.user if request.user.is_authenticated else None
    existing = User.objects.filter(email__iexact=invitation.email).first()
    form = SignupForm(request.POST or None, email=invitation.email)
    if request.method == "POST":
        if user is None and existing is None and form.is_valid():
            user = actions.create_user(
                invitation.email, form.cleaned_data["password"], form.cleaned_data["name"]
            )
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if user is not None:
            try:
                membership = actions.accept_invitation(token, user, request=request)
            except actions.ActionError as exc:
                messages.error(request, exc.message)
                return redirect("core:home")
            return redirect("core:dashboard", slug=membership.workspace.slug)
    context = {
        "invitation": invitation,
        "form": form,
        "needs_login": user is None and existing is not None,
        "needs_signup": user is None and existing is None,
    }
    return render(request, "accounts/invitation.html", context, status=400 if form.errors else 200)


@workspace_view("audit.view")
def audit(request):
    events = actions.audit_events(request.workspace)
    return render(
        request, "accounts/audit.html", {"events": events, "tab": "audit", "active_section": "settings"}
    )
