"""Answers are encoded with orjson: UTF-8 as is, and any string orjson refuses still answered."""

import json

from schema.views import GraphQLView
from tasks.models import Task


def test_an_answer_is_utf8_json_without_escapes(alice, client_for):
    Task.objects.create(owner=alice, title="Café ✓ 東京")
    client = client_for(alice)
    response = client.http.post(
        "/graphql/",
        {"query": "{ tasks { edges { node { title } } } }"},
        content_type="application/json",
        **client.headers,
    )
    assert response["Content-Type"] == "application/json"
    assert "Café ✓ 東京".encode() in response.content
    assert json.loads(response.content)["data"]["tasks"]["edges"][0]["node"]["title"] == "Café ✓ 東京"


def test_half_a_surrogate_pair_from_the_database_is_escaped_not_a_server_error():
    encoded = GraphQLView().encode_json({"data": {"title": "a\ud800b"}})
    assert json.loads(encoded) == {"data": {"title": "a\ud800b"}}
