import re

import pytest
from django.core import mail

from conftest import PASSWORD
from smmdesk.accounts import actions
from smmdesk.accounts.models import ApiToken, AuditEvent, Invitation, Membership, User, Workspace

Action = AuditEvent.Action


def test_login_with_email_records_audit(cast, client):
    user = cast.users["agent"]
    response = client.post("/accounts/login/", {"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor=user).count() == 1


def test_failed_login_is_audited_and_names_no_user(cast, client):
    response = client.post("/accounts/login/", {"email": "agent@salon.example", "password": "wrong"})
    assert response.status_code == 400
    assert "E-mail or password is wrong." in response.content.decode()
    event = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert event.email == "agent@salon.example" and event.ip == "127.0.0.1"


def test_login_throttled_after_repeated_failures(cast, client, settings):
    user = cast.users["agent"]
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        client.post("/accounts/login/", {"email": user.email, "password": "nope"})
    response = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_throttle_window_passes(cast, client, settings, time_machine):
    time_machine.move_to("2026-11-26 10:00:00+00:00", tick=False)
    user = cast.users["agent"]
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        client.post("/accounts/login/", {"email": user.email, "password": "nope"})
    time_machine.move_to("2026-11-26 10:16:00+00:00", tick=False)
    response = client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_login_form_names_the_field(client, db):
    response = client.post("/accounts/login/", {"email": "not-an-email", "password": ""})
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"email", "password"}


def test_login_refuses_open_redirect(cast, client):
    user = cast.users["agent"]
    response = client.post(
        "/accounts/login/", {"email": user.email, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_password_reset_sends_mail_and_link_sets_password(cast, client):
    user = cast.users["viewer"]
    client.post("/accounts/password-reset/", {"email": user.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password-reset/\S+)", mail.outbox[0].body).group(1)
    page = client.get(link, follow=True)
    assert page.status_code == 200
    response = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a-new-Long-pass-42", "new_password2": "a-new-Long-pass-42"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-Long-pass-42")
    assert AuditEvent.objects.filter(action=Action.PASSWORD_CHANGED, actor=user).exists()


def test_invitation_flow_new_person(cast, client):
    owner = cast.users["owner"]
    client.force_login(owner)
    response = client.post(
        f"/accounts/w/{cast.workspace.slug}/members/", {"email": "Stylist@Example.com", "role": "agent"}
    )
    link = response.context["invite_link"]
    assert Invitation.objects.filter(email="stylist@example.com").exists()
    client.logout()
    path = link.split("testserver", 1)[1]
    response = client.post(path, {"name": "Olga", "password": "short"})
    assert response.status_code == 400 and "password" in response.context["form"].errors
    response = client.post(path, {"name": "Olga", "password": "long-enough-pass-77"})
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="stylist@example.com")
    assert membership.workspace == cast.workspace and membership.role == "agent"
    # The link works once.
    assert client.get(path).status_code == 404


def test_invitation_expires(cast, client, time_machine):
    time_machine.move_to("2026-11-26 10:00:00+00:00", tick=False)
    _invitation, raw = actions.invite(cast.workspace, cast.users["owner"], "late@example.com", "viewer")
    time_machine.move_to("2026-12-04 10:00:00+00:00", tick=False)
    assert client.get(f"/accounts/invitation/{raw}/").status_code == 404


def test_existing_user_accepts_invitation_into_second_workspace(cast, client):
    _invitation, raw = actions.invite(cast.other, cast.outsider, cast.users["agent"].email, "smm_manager")
    client.force_login(cast.users["agent"])
    response = client.post(f"/accounts/invitation/{raw}/")
    assert response.status_code == 302
    slugs = set(cast.users["agent"].memberships.values_list("workspace__slug", flat=True))
    assert slugs == {"salon", "rival"}
    # The switcher lists both workspaces.
    page = client.get(f"/w/{cast.workspace.slug}/").content.decode()
    assert "/w/rival/" in page and "/w/salon/" in page


def test_role_change_is_audited_and_last_owner_kept(cast, client):
    owner = cast.users["owner"]
    client.force_login(owner)
    agent_membership = Membership.objects.get(user=cast.users["agent"])
    client.post(f"/accounts/w/salon/members/{agent_membership.pk}/role/", {"role": "smm_manager"})
    agent_membership.refresh_from_db()
    assert agent_membership.role == "smm_manager"
    event = AuditEvent.objects.get(action=Action.ROLE_CHANGED)
    assert event.detail == {"member": cast.users["agent"].email, "old": "agent", "new": "smm_manager"}
    own = Membership.objects.get(user=owner, workspace=cast.workspace)
    client.post(f"/accounts/w/salon/members/{own.pk}/role/", {"role": "viewer"})
    own.refresh_from_db()
    assert own.role == "owner"


def test_api_token_created_once_hashed_and_revoked(cast, client):
    user = cast.users["content_manager"]
    client.force_login(user)
    response = client.post("/accounts/me/tokens/", {"name": "CRM"})
    raw = response.context["raw"]
    token = ApiToken.objects.get(user=user)
    assert raw not in token.token_hash and token.prefix == raw[:10]
    assert raw not in client.get("/accounts/me/").content.decode()
    api = client.__class__()
    assert api.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["email"] == user.email
    client.post(f"/accounts/me/tokens/{token.pk}/revoke/")
    assert api.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    actions_seen = set(AuditEvent.objects.values_list("action", flat=True))
    assert {Action.API_TOKEN_CREATED, Action.API_TOKEN_REVOKED} <= actions_seen


def test_cannot_revoke_someone_elses_token(cast, client):
    token, _raw = actions.create_api_token(cast.users["owner"], "mine")
    client.force_login(cast.users["viewer"])
    client.post(f"/accounts/me/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is None


def test_create_workspace_makes_owner(client, db):
    user = User.objects.create_user("new@example.com", PASSWORD)
    client.force_login(user)
    response = client.post("/accounts/workspaces/new/", {"name": "Barber Leninsky", "city": "Orenburg"})
    assert response.status_code == 302
    workspace = Workspace.objects.get(slug="barber-leninsky")
    assert Membership.objects.get(user=user, workspace=workspace).role == "owner"
    taken = client.post("/accounts/workspaces/new/", {"name": "X", "city": "Y", "slug": "barber-leninsky"})
    assert taken.status_code == 400 and "slug" in taken.context["form"].errors


def test_language_switch_persists_for_user(cast, client):
    user = cast.users["viewer"]
    client.force_login(user)
    response = client.post("/i18n/setlang/", {"language": "sk", "next": "/w/salon/"})
    assert response.status_code == 302 and response["Location"] == "/w/salon/"
    user.refresh_from_db()
    assert user.language == "sk"
    evil = client.post("/i18n/setlang/", {"language": "ru", "next": "https://evil.example/"})
    assert evil["Location"] == "/"


@pytest.mark.parametrize("slug", ["salon"])
def test_audit_page_shows_members_logins_only(cast, client, slug):
    actions.audit(Action.LOGIN, actor=cast.users["agent"])
    actions.audit(Action.LOGIN, actor=cast.outsider)
    client.force_login(cast.users["owner"])
    page = client.get(f"/accounts/w/{slug}/audit/").content.decode()
    assert cast.users["agent"].email in page or "Agent" in page
    assert cast.outsider.email not in page
