"""Masking secrets in messages, URLs, bodies and headers."""

from __future__ import annotations

from dataferry.redact import MASK, Redactor, scrub_auth_text


def test_known_values_are_masked_longest_first() -> None:
    r = Redactor(["abcd1234", "abcd1234-extended"])
    assert r.text("x abcd1234-extended y abcd1234") == f"x {MASK} y {MASK}"


def test_short_values_are_not_treated_as_secrets() -> None:
    r = Redactor(["ab", None, ""])
    assert r.text("abc") == "abc"


def test_urls_mask_secret_parameters_and_user_info() -> None:
    r = Redactor()
    shown = r.url("https://user:pw@api.example.com/x?private_key=K123&page=2&auth_header=Basic%20zz")
    assert "K123" not in shown and "pw" not in shown and "zz" not in shown
    assert "page=2" in shown and "api.example.com" in shown


def test_json_fields_named_like_secrets_are_masked_at_any_depth() -> None:
    body = {"input": {"apiKey": "k-1", "password": "p", "appID": "APP"}, "items": [{"client_secret": "c"}]}
    out = Redactor().data(body)
    assert out == {"input": {"apiKey": MASK, "password": MASK, "appID": "APP"}, "items": [{"client_secret": MASK}]}
    assert Redactor().data({"password": None}) == {"password": None}  # nothing to hide stays visible


def test_headers_and_free_text_auth() -> None:
    assert Redactor().headers({"Authorization": "Bearer t", "X-App": "a"}) == {"Authorization": MASK, "X-App": "a"}
    assert (
        scrub_auth_text("sent Authorization: Bearer tok123 and AuthHMAC 7:sig=")
        == f"sent Authorization: Bearer {MASK} and AuthHMAC {MASK}"
    )
