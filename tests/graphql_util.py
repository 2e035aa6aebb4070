"""Talking to /graphql/ as a client does, and reading what it answered."""

import json
import re

from django.conf import settings
from django.test import Client

PASSWORD = "correct horse battery staple"


class GraphQLClient:
    """Talks to /graphql/ through Django's full HTTP stack, like a real client would."""

    def __init__(self):
        self.http = Client()
        self.headers = {}

    def authenticate(self, access_token):
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}
        return self

    def execute(self, query, variables=None, **extra):
        response = self.http.post(
            "/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **{**self.headers, **extra},
        )
        assert response.status_code == 200, response.content
        return response.json()

    def login(self, username, password=PASSWORD):
        result = self.execute(LOGIN, {"username": username, "password": password})
        assert "errors" not in result, result
        return result["data"]["tokenAuth"]


LOGIN = """
mutation Login($username: String!, $password: String!, $otp: String) {
  tokenAuth(username: $username, password: $password, otp: $otp) {
    access refresh accessExpiresAt refreshExpiresAt user { id username }
  }
}
"""


def error_codes(result):
    return [error["extensions"]["code"] for error in result.get("errors", [])]


def only_error(result):
    assert len(result.get("errors", [])) == 1, result
    return result["errors"][0]


def data_queries(captured):
    """The SQL of captured queries, less the rate-limit counters' (every operation spends from its
    viewer's budget there: a table without REDIS_URL, no SQL at all with it) and savepoints."""
    counters = settings.CACHES[settings.RATELIMIT_USE_CACHE].get("LOCATION")
    return [query["sql"] for query in captured if not (counters in query["sql"] or SAVEPOINT.match(query["sql"]))]


SAVEPOINT = re.compile(r"(ROLLBACK TO |RELEASE )?SAVEPOINT ")
