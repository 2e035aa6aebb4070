"""Persisted and trusted documents (docs/persisted-documents.md): every way to name one, and every refusal.

The trusted documents are the manifests in tests/manifests/, written by relay-compiler and by
GraphQL Code Generator's client preset (their README says how); the examples' own freshly
generated files are tried too when they are installed.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from graphql import OperationType, get_operation_ast, parse
from graphql.language import DocumentNode

from accounts.models import User
from schema import limits
from schema.manifests import load, trusted_documents
from schema.persisted import register
from schema.schema import schema
from schema.views import NO_SUBSCRIPTIONS_OVER_HTTP
from tasks.models import Task
from tests.graphql_util import PASSWORD, only_error
from tests.live_server import GunicornServer

MANIFESTS = Path(__file__).parent / "manifests"
RELAY = MANIFESTS / "relay-persisted-queries.json"
CLIENT_PRESET = MANIFESTS / "client-preset-persisted-documents.json"


def ids_by_operation(path):
    """{operation name: id as the manifest writes it}."""
    manifest = json.loads(path.read_text())
    return {get_operation_ast(parse(text)).name.value: document_id for document_id, text in manifest.items()}


PRESET_IDS = ids_by_operation(CLIENT_PRESET)  # "sha256:<hex>"
RELAY_IDS = ids_by_operation(RELAY)  # "<hex>"
ME = PRESET_IDS["Me"]
TASKS = PRESET_IDS["Tasks"]
REGISTER = PRESET_IDS["Register"]
NOT_FOUND_ANSWER = {
    "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
}
MALLORY = {"username": "mallory", "email": "m@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
ONLY_ANSWER = {"errors": [{"message": "PersistedQueryOnly", "extensions": {"code": "PERSISTED_QUERY_ONLY"}}]}

pytestmark = pytest.mark.usefixtures("manifests")


@pytest.fixture
def manifests():
    with override_settings(GRAPHQL_TRUSTED_DOCUMENTS=[str(RELAY), str(CLIENT_PRESET)]):
        yield


class Http:
    """Raw requests to /graphql/, with whatever fields a client puts in them."""

    def __init__(self, token=None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def post(self, **body):
        return self.client.post("/graphql/", json.dumps(body), content_type="application/json", **self.headers)

    def get(self, **params):
        encoded = {name: json.dumps(value) if isinstance(value, dict) else value for name, value in params.items()}
        return self.client.get("/graphql/", encoded, HTTP_ACCEPT="application/json", **self.headers)


@pytest.fixture
def anonymous():
    return Http()


@pytest.fixture
def alice_http(alice, client_for):
    return Http(client_for(alice).headers["HTTP_AUTHORIZATION"].removeprefix("Bearer "))


def apq(document_hash, version=1):
    return {"persistedQuery": {"version": version, "sha256Hash": document_hash}}


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def data_of(response):
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


# Every way to name a trusted document.


@pytest.mark.parametrize(
    "request_for",
    [
        pytest.param(lambda http: http.post(documentId=ME), id="POST documentId sha256:<hex>"),
        pytest.param(lambda http: http.post(documentId=ME.removeprefix("sha256:")), id="POST documentId <hex>"),
        pytest.param(lambda http: http.post(doc_id=ME), id="POST doc_id"),
        pytest.param(lambda http: http.post(extensions=apq(ME.removeprefix("sha256:"))), id="POST APQ hash"),
        pytest.param(lambda http: http.get(documentId=ME), id="GET documentId"),
        pytest.param(lambda http: http.get(doc_id=ME.removeprefix("sha256:")), id="GET doc_id"),
        pytest.param(lambda http: http.get(extensions=apq(ME.removeprefix("sha256:"))), id="GET APQ hash"),
    ],
)
def test_a_trusted_document_runs_by_each_kind_of_id(alice_http, request_for):
    assert data_of(request_for(alice_http))["me"]["username"] == "alice"


def test_a_get_naming_a_document_is_not_taken_for_a_browser_asking_for_graphiql(alice_http):
    for accept in ("*/*", "text/html"):
        response = alice_http.client.get("/graphql/", {"documentId": ME}, HTTP_ACCEPT=accept, **alice_http.headers)
        assert data_of(response)["me"]["username"] == "alice"


def test_relay_compilers_documents_run_by_doc_id_with_their_variables(alice, alice_http):
    Task.objects.create(owner=alice, title="one")
    page = data_of(alice_http.post(doc_id=RELAY_IDS["TaskListPaginationQuery"], variables={"count": 5}))
    assert [edge["node"]["title"] for edge in page["tasks"]["edges"]] == ["one"]
    login = Http().post(doc_id=RELAY_IDS["accountLoginMutation"], variables={"username": "alice", "password": PASSWORD})
    assert data_of(login)["tokenAuth"]["user"]["username"] == "alice"


def test_the_variables_and_operation_name_of_the_request_apply(alice, alice_http):
    Task.objects.bulk_create([Task(owner=alice, title=f"t{index}") for index in range(3)])
    tasks = data_of(alice_http.post(documentId=TASKS, variables={"first": 2}, operationName="Tasks"))["tasks"]
    assert (len(tasks["edges"]), tasks["totalCount"], tasks["pageInfo"]["hasNextPage"]) == (2, 3, True)


def test_a_trusted_document_is_parsed_and_validated_once(alice_http, monkeypatch):
    trusted = trusted_documents().get(ME)
    for _ in range(3):
        assert data_of(alice_http.post(documentId=ME))["me"]["username"] == "alice"
    assert len(trusted.validations) == 1

    def no_parsing(*_):
        raise AssertionError("a trusted document was parsed again")

    monkeypatch.setattr(limits, "_cached_parse", no_parsing)
    monkeypatch.setattr(limits, "_validate", no_parsing)
    # Nor walked to be hashed (graphql-core hashes a document node by node): its validations are
    # kept by the limits they were made with.
    monkeypatch.setattr(DocumentNode, "__hash__", no_parsing)
    assert data_of(alice_http.post(documentId=ME))["me"]["username"] == "alice"


# Rules that apply to text apply to persisted documents.


def test_field_rules_apply(anonymous):
    error = only_error(anonymous.post(documentId=ME).json())
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "missing_credentials"}


def test_get_runs_queries_only(anonymous):
    variables = {"input": MALLORY}
    for request in (
        lambda: anonymous.get(documentId=REGISTER, variables=json.dumps(variables)),
        lambda: anonymous.get(extensions=apq(REGISTER.removeprefix("sha256:")), variables=json.dumps(variables)),
    ):
        response = request()
        assert response.status_code == 400, response.content
    assert not User.objects.filter(username="mallory").exists()
    assert data_of(anonymous.post(documentId=REGISTER, variables=variables))["register"]["username"] == "mallory"


def test_the_node_limit_counts_persisted_documents_with_their_variables(alice_http):
    with override_settings(GRAPHQL_MAX_NODES=50):
        assert "tasks" in data_of(alice_http.post(documentId=TASKS, variables={"first": 50}))
        error = only_error(alice_http.post(documentId=TASKS, variables={"first": 51}).json())
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED", "nodeCount": 51, "maxNodes": 50}


def test_relays_default_page_size_counts_through_its_fragment(alice_http):
    pagination = RELAY_IDS["TaskListPaginationQuery"]
    with override_settings(GRAPHQL_MAX_NODES=2):
        assert "tasks" in data_of(alice_http.post(doc_id=pagination))  # $count = 2
        error = only_error(alice_http.post(doc_id=pagination, variables={"count": 3}).json())
    assert error["extensions"]["nodeCount"] == 3


@pytest.mark.parametrize("limit", [{"GRAPHQL_MAX_DEPTH": 1}, {"GRAPHQL_MAX_FIELDS": 3}, {"GRAPHQL_MAX_TOKENS": 10}])
def test_document_limits_apply_when_the_document_is_requested(alice_http, limit):
    with override_settings(**limit):
        error = only_error(alice_http.post(documentId=TASKS, variables={"first": 1}).json())
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "tasks" in data_of(alice_http.post(documentId=TASKS, variables={"first": 1}))


# Refusals.


@pytest.mark.parametrize(
    "request_for",
    [
        pytest.param(lambda http: http.post(documentId="sha256:" + "0" * 64), id="POST documentId"),
        pytest.param(lambda http: http.post(doc_id="0123abcd"), id="POST doc_id"),
        pytest.param(lambda http: http.post(extensions=apq("0" * 64)), id="POST APQ"),
        pytest.param(lambda http: http.get(documentId="x-unknown"), id="GET documentId"),
        pytest.param(lambda http: http.get(extensions=apq("0" * 64)), id="GET APQ"),
    ],
)
def test_an_unknown_id_is_persisted_query_not_found_with_http_200(anonymous, request_for):
    response = request_for(anonymous)
    assert (response.status_code, response.json()) == (200, NOT_FOUND_ANSWER)
    assert response["X-RateLimit-Used"] == "0"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"documentId": ME, "query": "{ me { id } }"}, id="text and documentId"),
        pytest.param({"doc_id": ME, "documentId": ME}, id="documentId and doc_id"),
        pytest.param({"documentId": ME, "extensions": apq(ME)}, id="documentId and APQ"),
        pytest.param({"documentId": 42}, id="documentId not a string"),
        pytest.param({"doc_id": ["x"]}, id="doc_id not a string"),
    ],
)
def test_a_request_naming_its_document_twice_or_badly_is_http_400(anonymous, body):
    response = anonymous.post(**body)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "extensions",
    [
        pytest.param(apq(sha256("{ __typename }"), version=2), id="version 2"),
        pytest.param({"persistedQuery": {"version": 1}}, id="no hash"),
        pytest.param({"persistedQuery": "abc"}, id="not an object"),
        pytest.param(apq(sha256("{ me { id } }")), id="hash of another text"),
    ],
)
def test_a_bad_apq_extension_is_http_400_bad_user_input(anonymous, extensions):
    response = anonymous.post(query="{ __typename }", extensions=extensions)
    assert response.status_code == 400
    assert only_error(response.json())["extensions"] == {"code": "BAD_USER_INPUT"}


# Apollo's automatic persisted queries.


def test_apq_as_apollo_client_speaks_it(alice_http):
    text = "query Mine { me { username } }"
    document_hash = sha256(text)
    miss = alice_http.post(extensions=apq(document_hash), operationName="Mine")
    assert (miss.status_code, miss.json()) == (200, NOT_FOUND_ANSWER)
    # The client retries with the text: the hash is checked, the text runs and is kept.
    assert data_of(alice_http.post(query=text, extensions=apq(document_hash)))["me"]["username"] == "alice"
    assert data_of(alice_http.post(extensions=apq(document_hash)))["me"]["username"] == "alice"
    assert data_of(alice_http.get(extensions=apq(document_hash)))["me"]["username"] == "alice"
    assert data_of(alice_http.post(documentId=f"sha256:{document_hash}"))["me"]["username"] == "alice"


def test_apq_keeps_only_documents_that_validate(anonymous):
    for text in ("{ nothing }", "{ __typename"):
        response = anonymous.post(query=text, extensions=apq(sha256(text)))
        assert only_error(response.json())["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert anonymous.post(extensions=apq(sha256(text))).json() == NOT_FOUND_ANSWER


def test_a_refused_registration_keeps_nothing(anonymous):
    text = "{ __typename }"
    anonymous.post(query=text, extensions=apq(sha256("something else")))
    assert anonymous.post(extensions=apq(sha256(text))).json() == NOT_FOUND_ANSWER


@override_settings(GRAPHQL_APQ_MAX_ENTRIES=4)
def test_the_apq_store_holds_a_bounded_number_of_documents(anonymous):
    texts = [f"query Q{index} {{ __typename }}" for index in range(40)]
    for text in texts:
        assert data_of(anonymous.post(query=text, extensions=apq(sha256(text)))) == {"__typename": "Query"}
    found = [text for text in texts if "errors" not in anonymous.post(extensions=apq(sha256(text))).json()]
    assert 1 <= len(found) <= 4
    assert texts[-1] in found


def test_documents_longer_than_the_parse_cache_keeps_run_but_are_not_stored(anonymous):
    text = "{ __typename " + " " * limits.CACHED_QUERY_LENGTH + "}"
    assert data_of(anonymous.post(query=text, extensions=apq(sha256(text)))) == {"__typename": "Query"}
    assert anonymous.post(extensions=apq(sha256(text))).json() == NOT_FOUND_ANSWER


def test_the_apq_store_is_not_the_rate_limit_counters_cache():
    """Without Redis, a table of its own; in Redis, keys of its own, a bounded number of them."""
    assert settings.PERSISTED_QUERIES_CACHE != settings.RATELIMIT_USE_CACHE
    store = settings.CACHES[settings.PERSISTED_QUERIES_CACHE]
    counters = settings.CACHES[settings.RATELIMIT_USE_CACHE]
    assert store["BACKEND"].endswith("RedisCache") or store["LOCATION"] != counters["LOCATION"]


# Trusted-only mode.


@pytest.fixture
def trusted_only():
    with override_settings(GRAPHQL_TRUSTED_DOCUMENTS_ONLY=True):
        yield


REGISTER_TEXT = "mutation($input: RegisterInput!) { register(input: $input) { id } }"


@pytest.mark.usefixtures("trusted_only")
@pytest.mark.parametrize(
    "request_for",
    [
        pytest.param(lambda http: http.post(query=REGISTER_TEXT, variables={"input": MALLORY}), id="POST text"),
        pytest.param(lambda http: http.get(query="{ me { id } }"), id="GET text"),
        pytest.param(
            lambda http: http.post(
                query=REGISTER_TEXT, variables={"input": MALLORY}, extensions=apq(sha256(REGISTER_TEXT))
            ),
            id="APQ registration",
        ),
        pytest.param(lambda http: http.post(query="{ __typename }"), id="a health check's text"),
    ],
)
def test_trusted_only_refuses_text_and_runs_nothing(anonymous, request_for):
    response = request_for(anonymous)
    assert (response.status_code, response.json()) == (200, ONLY_ANSWER)
    assert not User.objects.filter(username="mallory").exists()
    assert response["X-RateLimit-Used"] == "0"
    with override_settings(GRAPHQL_TRUSTED_DOCUMENTS_ONLY=False):
        assert anonymous.post(extensions=apq(sha256(REGISTER_TEXT))).json() == NOT_FOUND_ANSWER


def test_trusted_only_runs_trusted_documents_and_ignores_the_apq_store(alice_http, trusted_only):
    text = "query Mine { me { username } }"
    register(sha256(text), text)
    assert alice_http.post(extensions=apq(sha256(text))).json() == NOT_FOUND_ANSWER
    assert data_of(alice_http.post(documentId=ME))["me"]["username"] == "alice"
    assert data_of(alice_http.post(extensions=apq(ME.removeprefix("sha256:"))))["me"]["username"] == "alice"


def test_trusted_only_needs_trusted_documents():
    result = manage("check", GRAPHQL_TRUSTED_DOCUMENTS_ONLY="1", GRAPHQL_TRUSTED_DOCUMENTS="")
    assert result.returncode != 0
    assert "GRAPHQL_TRUSTED_DOCUMENTS_ONLY=1 needs GRAPHQL_TRUSTED_DOCUMENTS" in result.stderr


# Manifests that cannot be served stop the server at start.


def manage(*args, **environment):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", "DJANGO_DEBUG": "1", **environment}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_server_does_not_start_with_a_document_that_no_longer_validates(tmp_path):
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({"sha256:abc": "query Old { me { nickname } }", "sha256:def": "{ me { id } }"}))
    result = manage("check", GRAPHQL_TRUSTED_DOCUMENTS=f"{RELAY},{manifest}")
    assert result.returncode != 0
    assert f"{manifest}: document 'sha256:abc' does not validate against the schema" in result.stderr
    assert "nickname" in result.stderr
    assert "sha256:def" not in result.stderr
    assert manage("check", GRAPHQL_TRUSTED_DOCUMENTS=f"{RELAY},{CLIENT_PRESET}").returncode == 0


@pytest.mark.slow
def test_gunicorn_does_not_start_with_such_a_manifest(tmp_path):
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({"sha256:abc": "query Old { me { nickname } }"}))
    server = GunicornServer(tmp_path)
    server.migrate()
    server.env["GRAPHQL_TRUSTED_DOCUMENTS"] = str(manifest)
    try:
        server.start()  # its worker may have announced itself before it loaded the application
    except AssertionError:
        pass
    assert server.process.wait(timeout=60) != 0
    assert "document 'sha256:abc' does not validate against the schema" in server.error_log.read_text()


@pytest.mark.parametrize(
    "content, problem",
    [
        ('["{ me { id } }"]', "is not a JSON object of document ids to document texts"),
        ('{"a": {"text": "{ me { id } }"}}', "is not a JSON object of document ids to document texts"),
        ("{", "is not JSON"),
        ('{"a": "{ me { id }"}', "document 'a' does not validate against the schema: Syntax Error"),
        ('{"a": "{ me { id } }", "sha256:a": "{ me { username } }"}', "document 'sha256:a' has another text"),
    ],
)
def test_a_manifest_that_is_not_an_object_of_valid_documents_is_refused_naming_it(tmp_path, content, problem):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(content)
    with pytest.raises(ImproperlyConfigured) as refused:
        load([manifest], schema._schema)
    assert f"{manifest}" in str(refused.value) and problem in str(refused.value)


def test_a_missing_manifest_is_refused(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="missing.json cannot be read"):
        load([tmp_path / "missing.json"], schema._schema)


def test_overriding_the_setting_with_a_bad_manifest_is_refused_too(tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"a": "{ nothing }"}')
    with pytest.raises(ImproperlyConfigured), override_settings(GRAPHQL_TRUSTED_DOCUMENTS=[str(manifest)]):
        pass


# The examples' own manifests, generated by `make examples` (CI) from the current schema.

EXAMPLES = settings.BASE_DIR / "examples"
GENERATED = {
    "relay": EXAMPLES / "relay" / "persisted-queries.json",
    "apollo": EXAMPLES / "apollo" / "src" / "gql" / "persisted-documents.json",
}


@pytest.mark.parametrize("example", GENERATED)
def test_the_manifests_the_examples_generate_are_served(example, alice_http):
    manifest = GENERATED[example]
    if not manifest.exists():
        reason = f"examples/{example} has not generated {manifest.name}: run `make examples`"
        if os.environ.get("REQUIRE_EXAMPLES") == "1":
            pytest.fail(f"REQUIRE_EXAMPLES=1 but {reason}")
        pytest.skip(reason)
    ids = json.loads(manifest.read_text())
    with override_settings(GRAPHQL_TRUSTED_DOCUMENTS=[str(manifest)], GRAPHQL_TRUSTED_DOCUMENTS_ONLY=True):
        assert len(trusted_documents()) == len(ids)
        for document_id, text in ids.items():
            response = alice_http.post(documentId=document_id)
            if get_operation_ast(parse(text)).operation is OperationType.SUBSCRIPTION:
                # Found, and refused for its transport: subscriptions run over the WebSocket.
                assert response.content.decode() == NO_SUBSCRIPTIONS_OVER_HTTP, document_id
                continue
            # Without its variables a document stops at their coercion: found, parsed and valid.
            answer = response.json()
            assert "PERSISTED_QUERY" not in json.dumps(answer), (document_id, answer)
