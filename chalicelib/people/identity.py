"""Amazon Cognito, the only code that knows its API: users are made and given passwords by the admin calls,
sign in is InitiateAuth USER_PASSWORD_AUTH, sign out GlobalSignOut. A user's Cognito username is Herald's
user id (`usr_...`), so it never changes with the email and a restored pool keeps it."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chalicelib.core.errors import ApiError, Unauthorized, ValidationFailed

log = logging.getLogger("herald.people.cognito")


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str
    refresh_token: str | None
    expires_in: int


class PoolNotConfigured(ApiError):
    status, code = 503, "sign_in_unavailable"


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class CognitoIdentity:
    def __init__(self, client: Any, user_pool_id: str, client_id: str) -> None:
        self._client = client
        self.user_pool_id = user_pool_id
        self.client_id = client_id

    def _ready(self) -> None:
        if not self.user_pool_id or not self.client_id:
            raise PoolNotConfigured("Sign-in is not set up here: HERALD_COGNITO_USER_POOL_ID and "
                                    "HERALD_COGNITO_CLIENT_ID are empty.")

    def create_user(self, user_id: str, email: str) -> None:
        self._ready()
        try:
            self._client.admin_create_user(
                UserPoolId=self.user_pool_id, Username=user_id, MessageAction="SUPPRESS",
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}])
        except Exception as exc:
            if _code(exc) != "UsernameExistsException":
                raise

    def set_password(self, user_id: str, password: str) -> None:
        self._ready()
        try:
            self._client.admin_set_user_password(UserPoolId=self.user_pool_id, Username=user_id,
                                                 Password=password, Permanent=True)
        except Exception as exc:
            if _code(exc) == "InvalidPasswordException":
                raise ValidationFailed.field("password", "does not meet the password policy: at least 12 "
                                             "characters with upper and lower case letters and a digit") from None
            raise

    def sign_in(self, user_id: str, password: str) -> Tokens:
        self._ready()
        try:
            answer = self._client.initiate_auth(ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                                AuthParameters={"USERNAME": user_id, "PASSWORD": password})
        except Exception as exc:
            if _code(exc) in ("NotAuthorizedException", "UserNotFoundException", "PasswordResetRequiredException",
                              "UserNotConfirmedException"):
                raise Unauthorized("The email or password is not right.", code="sign_in_failed") from None
            raise
        return _tokens(answer)

    def refresh(self, refresh_token: str) -> Tokens:
        self._ready()
        try:
            answer = self._client.initiate_auth(ClientId=self.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                                AuthParameters={"REFRESH_TOKEN": refresh_token})
        except Exception as exc:
            if _code(exc) in ("NotAuthorizedException", "UserNotFoundException"):
                raise Unauthorized("This refresh token is not valid; sign in again.") from None
            raise
        return _tokens(answer, refresh_token)

    def sign_out(self, access_token: str) -> None:
        """GlobalSignOut: Cognito revokes the user's refresh tokens (Herald also refuses their older tokens)."""
        try:
            self._client.global_sign_out(AccessToken=access_token)
        except Exception as exc:
            log.warning("GlobalSignOut failed (%s); Herald's own cut-off still signs the user out", _code(exc))

    def sign_out_everywhere(self, user_id: str) -> None:
        try:
            self._client.admin_user_global_sign_out(UserPoolId=self.user_pool_id, Username=user_id)
        except Exception as exc:
            log.warning("AdminUserGlobalSignOut failed (%s)", _code(exc))


def _tokens(answer: dict[str, Any], refresh_token: str | None = None) -> Tokens:
    result = answer.get("AuthenticationResult")
    if not result:  # a challenge (NEW_PASSWORD_REQUIRED, MFA): Herald sets permanent passwords, so none is due
        raise Unauthorized(f"Sign-in needs a step Herald does not offer ({answer.get('ChallengeName')}).",
                           code="sign_in_failed")
    return Tokens(result["AccessToken"], result["IdToken"], result.get("RefreshToken") or refresh_token,
                  int(result.get("ExpiresIn", 3600)))
