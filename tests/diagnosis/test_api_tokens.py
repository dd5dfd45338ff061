"""Per-merchant-user API tokens: hashed, shown once, revocable; the management command."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from diagnosis.models import ApiToken
from diagnosis.tickets.api_tokens import api_token_create, api_token_revoke, api_token_user
from tests import factories


@pytest.mark.django_db
def test_token_stored_only_as_hash(merchant_user):
    token, raw = api_token_create(user=merchant_user, name="POS")
    assert raw.startswith("dd_") and len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:11]
    stored = ApiToken.objects.get()
    assert raw not in {stored.token_hash, stored.prefix, stored.name}
    assert api_token_user(raw) == merchant_user
    assert api_token_user(raw + "x") is None
    assert api_token_user("") is None


@pytest.mark.django_db
def test_revoked_and_inactive_tokens_do_not_authenticate(merchant_user):
    token, raw = api_token_create(user=merchant_user)
    api_token_revoke(token=token, actor=merchant_user)
    assert api_token_user(raw) is None
    _token, raw2 = api_token_create(user=merchant_user)
    merchant_user.is_active = False
    merchant_user.save()
    assert api_token_user(raw2) is None


@pytest.mark.django_db
def test_only_merchant_users_get_tokens(agent, merchant_user, other_merchant_user):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        api_token_create(user=agent)
    token, _raw = api_token_create(user=merchant_user)
    with pytest.raises(PermissionDenied):
        api_token_revoke(token=token, actor=other_merchant_user)


@pytest.mark.django_db
def test_command_prints_a_working_token(merchant_user):
    out, err = StringIO(), StringIO()
    call_command("create_api_token", merchant_user.username, stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert api_token_user(raw) == merchant_user
    assert raw not in err.getvalue()


@pytest.mark.django_db
def test_command_refuses_non_merchant_and_unknown_users(agent):
    with pytest.raises(CommandError):
        call_command("create_api_token", agent.username, stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody", stdout=StringIO())
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_token_page_shows_new_token_once_then_only_prefix(client, merchant_user):
    factories.sign_in(client, merchant_user)
    assert "还没有令牌" in client.get("/tickets/api-tokens/").content.decode()
    created = client.post("/tickets/api-tokens/", {"name": "收银系统"})
    assert created.status_code == 200 and created["Cache-Control"].startswith("no-store")
    token = ApiToken.objects.get()
    body = created.content.decode()
    raw = body.split('id="new-token"')[1].split('value="')[1].split('"')[0]
    assert api_token_user(raw) == merchant_user
    again = client.get("/tickets/api-tokens/").content.decode()
    assert raw not in again and token.prefix in again


@pytest.mark.django_db
def test_revoke_from_page_and_others_cannot(client, merchant_user, other_merchant_user):
    token, raw = api_token_create(user=merchant_user)
    factories.sign_in(client, other_merchant_user)
    assert client.post(f"/tickets/api-tokens/{token.pk}/revoke/").status_code == 404
    assert api_token_user(raw) == merchant_user
    factories.sign_in(client, merchant_user)
    response = client.post(f"/tickets/api-tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert api_token_user(raw) is None
    assert "已停用" in client.get("/tickets/api-tokens/").content.decode()


@pytest.mark.django_db
def test_tokens_page_query_count(client, merchant_user, django_assert_max_num_queries):
    factories.sign_in(client, merchant_user)
    api_token_create(user=merchant_user)
    client.get("/tickets/api-tokens/")
    for _ in range(10):
        api_token_create(user=merchant_user)
    with django_assert_max_num_queries(6):
        client.get("/tickets/api-tokens/")
