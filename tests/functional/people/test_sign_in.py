"""Signing in issues the user pool's real signed tokens (moto's Cognito), which every route takes as a bearer;
signing out and resetting a password end them; a wrong password, an unknown address or a forged token is a 401."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt

from tests.support.http import Api
from tests.support.people import PASSWORD, Person, accept, mail_to, sign_in, token_mailed_to

ANONYMOUS = {"Content-Type": "application/json"}


def test_sign_in_issues_cognito_tokens_that_open_the_workspace(client: Any, workspace: Any, owner: Person,
                                                                deps: Any) -> None:
    claims = jwt.decode(owner.access_token, options={"verify_signature": False})
    assert claims["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{deps.settings.cognito_user_pool_id}"
    assert (claims["token_use"], claims["client_id"]) == ("access", deps.settings.cognito_client_id)
    assert jwt.get_unverified_header(owner.access_token)["alg"] == "RS256"

    answer = Api(client, owner.headers()).get("/workspace")
    assert answer.status_code == 200
    assert answer.json["id"] == workspace.id


def test_the_id_token_is_taken_as_well(client: Any, workspace: Any, owner: Person) -> None:
    tokens = Api(client, ANONYMOUS).post("/auth/sign-in", {"email": owner.email, "password": PASSWORD}).json
    assert Api(client, {"Authorization": f"Bearer {tokens['id_token']}"}).get("/workspace").status_code == 200


def test_a_wrong_password_or_an_unknown_address_is_a_401_that_says_neither(client: Any, owner: Person) -> None:
    anonymous = Api(client, ANONYMOUS)
    wrong = anonymous.post("/auth/sign-in", {"email": owner.email, "password": "Not-the-password-1"})
    unknown = anonymous.post("/auth/sign-in", {"email": "nobody@acme.test", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["error"]["code"] == "sign_in_failed"


def test_the_email_is_matched_without_case(client: Any, owner: Person) -> None:
    answer = Api(client, ANONYMOUS).post("/auth/sign-in", {"email": "Olivia@ACME.test", "password": PASSWORD})
    assert answer.status_code == 200


def test_a_forged_or_tampered_token_is_a_401(client: Any, owner: Person) -> None:
    header, body, signature = owner.access_token.split(".")
    claims = jwt.decode(owner.access_token, options={"verify_signature": False})
    claims["username"] = "usr_somebody_else"
    forged_body = jwt.encode(claims, "x" * 32, algorithm="HS256").split(".")[1]
    for token in (f"{header}.{forged_body}.{signature}", jwt.encode(claims, None, algorithm="none")):
        answer = Api(client, {"Authorization": f"Bearer {token}"}).get("/workspace")
        assert answer.status_code == 401, token
        assert answer.json["error"]["code"] == "unauthorized"


def test_an_expired_token_is_a_401(client: Any, owner: Person, clock: Any) -> None:
    expires = jwt.decode(owner.access_token, options={"verify_signature": False})["exp"]
    clock.set(datetime.fromtimestamp(expires, UTC))
    answer = Api(client, owner.headers()).get("/workspace")
    assert answer.status_code == 401


def test_refresh_gives_a_new_access_token(client: Any, owner: Person) -> None:
    answer = Api(client, ANONYMOUS).post("/auth/refresh", {"refresh_token": owner.refresh_token})
    assert answer.status_code == 200
    assert Api(client, {"Authorization": f"Bearer {answer.json['access_token']}"}).get("/me").status_code == 200


def test_sign_out_ends_the_token_and_the_refresh_token(client: Any, owner: Person) -> None:
    api = Api(client, owner.headers())
    assert api.post("/auth/sign-out").status_code == 204
    assert api.get("/workspace").status_code == 401
    assert api.get("/me").status_code == 401
    refreshed = Api(client, ANONYMOUS).post("/auth/refresh", {"refresh_token": owner.refresh_token})
    assert refreshed.status_code == 401


def test_an_api_key_cannot_sign_out(client: Any, workspace: Any) -> None:
    answer = Api(client, workspace.headers()).post("/auth/sign-out")
    assert answer.status_code == 400
    assert Api(client, workspace.headers()).get("/workspace").status_code == 200


def test_a_password_reset_mails_a_single_use_token_that_sets_a_new_password(client: Any, owner: Person) -> None:
    anonymous = Api(client, ANONYMOUS)
    assert anonymous.post("/auth/password-reset", {"email": owner.email}).status_code == 202
    assert mail_to(owner.email)[0]["subject"] == "Reset your Herald password"
    token = token_mailed_to(owner.email)

    new_password = "Another-horse-77"
    assert anonymous.post("/auth/password-reset/confirm",
                          {"token": token, "password": new_password}).status_code == 204
    assert anonymous.post("/auth/sign-in", {"email": owner.email, "password": PASSWORD}).status_code == 401
    assert sign_in(client, owner.email, new_password).user_id == owner.user_id
    # Used once: never again.
    again = anonymous.post("/auth/password-reset/confirm", {"token": token, "password": "Third-horse-99"})
    assert again.status_code == 404


def test_a_reset_for_an_unknown_address_answers_the_same_and_mails_nothing(client: Any, workspace: Any) -> None:
    answer = Api(client, ANONYMOUS).post("/auth/password-reset", {"email": "nobody@acme.test"})
    assert answer.status_code == 202
    assert mail_to("nobody@acme.test") == []


def test_a_reset_token_expires_after_an_hour(client: Any, owner: Person, clock: Any) -> None:
    anonymous = Api(client, ANONYMOUS)
    anonymous.post("/auth/password-reset", {"email": owner.email})
    clock.advance(minutes=61)
    answer = anonymous.post("/auth/password-reset/confirm",
                            {"token": token_mailed_to(owner.email), "password": "Another-horse-77"})
    assert answer.status_code == 404
    assert sign_in(client, owner.email).user_id == owner.user_id


def test_a_weak_password_is_refused_when_accepting(client: Any, workspace: Any) -> None:
    Api(client, workspace.headers()).post("/invitations", {"email": "weak@acme.test", "role": "viewer"})
    answer = Api(client, ANONYMOUS).post("/invitations/accept",
                                         {"token": token_mailed_to("weak@acme.test"), "password": "password"})
    assert answer.status_code == 422
    assert answer.json["error"]["details"][0]["field"] == "password"
    # Nothing was used up: a good password still works with the same invitation.
    assert accept(client, "weak@acme.test")["role"] == "viewer"
