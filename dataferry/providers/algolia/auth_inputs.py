"""Authentication inputs: one variant per authentication ``type``.

The secret field of each variant (``privateKey``, ``password``, ``key``, ``client_secret``,
``apiKey``) is masked in reprs, and registered with the client's redactor before it is sent,
so it never shows in an error, a log line or a DataFrame.

Example:
    >>> AuthAlgolia(app_id="ALGOLIA_APP", api_key="a-very-secret-key")
    AuthAlgolia(app_id='ALGOLIA_APP', api_key=***)
"""

from __future__ import annotations

from dataclasses import dataclass

from dataferry.providers.algolia.inputs import Input, url, wire


@dataclass(frozen=True, kw_only=True, repr=False)
class AuthInput(Input):
    """Base of the authentication inputs."""

    family = "authentication"


@dataclass(frozen=True, kw_only=True, repr=False)
class AuthGoogleServiceAccount(AuthInput):
    """A Google service account (BigQuery sources).

    Args:
        client_email: the service account's e-mail address.
        private_key: its private key (secret).
    """

    kind = "googleServiceAccount"
    client_email: str = wire("clientEmail", str, required=True)
    private_key: str = wire("privateKey", str, required=True, secret=True)


@dataclass(frozen=True, kw_only=True, repr=False)
class AuthBasic(AuthInput):
    """User name and password.

    Args:
        username: the user name.
        password: the password (secret).
    """

    kind = "basic"
    username: str = wire("username", str, required=True)
    password: str = wire("password", str, required=True, secret=True)


@dataclass(frozen=True, kw_only=True, repr=False)
class AuthAPIKey(AuthInput):
    """An API key.

    Args:
        key: the key (secret).
    """

    kind = "apiKey"
    key: str = wire("key", str, required=True, secret=True)


@dataclass(frozen=True, kw_only=True, repr=False)
class AuthOAuth(AuthInput):
    """OAuth 2.0 client credentials.

    Args:
        url: the OAuth token endpoint.
        client_id: the client id.
        client_secret: the client secret (secret).
        scope: the OAuth scope.
    """

    kind = "oauth"
    url: str = wire("url", str, required=True, check=url)
    client_id: str = wire("client_id", str, required=True)
    client_secret: str = wire("client_secret", str, required=True, secret=True)
    scope: str | None = wire("scope", str)


@dataclass(frozen=True, kw_only=True, repr=False)
class AuthAlgolia(AuthInput):
    """An Algolia application and an API key allowed to write to its indices.

    Args:
        app_id: the Algolia application id.
        api_key: an API key with ``addObject, deleteObject, settings, editSettings,
            listIndexes, deleteIndex`` (secret).
    """

    kind = "algolia"
    app_id: str = wire("appID", str, required=True)
    api_key: str = wire("apiKey", str, required=True, secret=True)


@dataclass(frozen=True, kw_only=True, repr=False)
class AuthAlgoliaInsights(AuthInput):
    """An Algolia application and a search API key, for Insights destinations.

    Args:
        app_id: the Algolia application id.
        api_key: an API key with the ``search`` ACL (secret).
    """

    kind = "algoliaInsights"
    app_id: str = wire("appID", str, required=True)
    api_key: str = wire("apiKey", str, required=True, secret=True)


AUTH_INPUTS: tuple[type[AuthInput], ...] = (
    AuthGoogleServiceAccount,
    AuthBasic,
    AuthAPIKey,
    AuthOAuth,
    AuthAlgolia,
    AuthAlgoliaInsights,
)
"""Every authentication variant, one per ``type``."""
