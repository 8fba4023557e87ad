"""HTTP: one session wrapper, auth hooks, retry policy, rate limits and the error table."""

from dataferry.http.auth import Auth, BearerAuth, HeaderAuth, NoAuth, QueryAuth
from dataferry.http.errormap import ErrorMap, Rule
from dataferry.http.ratelimit import Rate, RateLimiter, RateLimits, limits_from
from dataferry.http.session import HttpClient

__all__ = [
    "Auth",
    "BearerAuth",
    "ErrorMap",
    "HeaderAuth",
    "HttpClient",
    "NoAuth",
    "QueryAuth",
    "Rate",
    "RateLimiter",
    "RateLimits",
    "Rule",
    "limits_from",
]
