"""Persisted documents (API.md section 13): which document a request runs when it names one by id.

A request names its document in one of these ways:

- `query`: the text itself (refused with PERSISTED_QUERY_ONLY when GRAPHQL_TRUSTED_DOCUMENTS_ONLY
  is on, whatever else comes with it);
- `documentId` (GraphQL over HTTP; `sha256:<hex>` and `<hex>` are the same id) or `doc_id`
  (Relay's convention): a trusted document (schema.manifests), or else one registered through
  APQ;
- Apollo's automatic persisted queries, `extensions.persistedQuery = {"version": 1,
  "sha256Hash": "<hex>"}`: alone, the same lookup; with `query`, a registration: the hash must be
  the SHA-256 of the text (else HTTP 400, BAD_USER_INPUT), the text runs, and once it has
  validated it is stored (PersistedQueryRegistration) so that the hash alone will do next time.

An id nobody knows is PERSISTED_QUERY_NOT_FOUND with HTTP 200, exactly as Apollo Server answers,
since Apollo Client recognises that answer and sends the text. Once the text is known, the
request goes on as a text request would: Strawberry parses (schema.limits reuses a trusted
document's parse), validates, enforces "GET runs queries only", and the field rules apply.

Registered documents live in their own cache (settings.PERSISTED_QUERIES_CACHE), in a fixed
number of slots (GRAPHQL_APQ_MAX_ENTRIES), a document of at most CACHED_QUERY_LENGTH characters
in each: a registration takes the slot its hash falls in, replacing whatever was there. So the
store is bounded in entries and bytes whatever clients send, never evicts anything else (in a
Redis that must not evict, nothing else could), and a document displaced by a collision costs its
client one more round trip, which APQ is built for.
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from strawberry.extensions import SchemaExtension

from schema.errors import BAD_USER_INPUT, PERSISTED_QUERY_NOT_FOUND, PERSISTED_QUERY_ONLY, BadRequest
from schema.limits import CACHED_QUERY_LENGTH
from schema.manifests import canonical_id, trusted_documents

ID_FIELDS = ("documentId", "doc_id")
APQ_VERSION = 1


class PersistedDocumentRefusal(Exception):
    """A request refused before any document runs: answered with this GraphQL error and HTTP status."""

    def __init__(self, message, code, status=200):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status

    def as_response_data(self):
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


NOT_FOUND = ("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND)
ONLY = ("PersistedQueryOnly", PERSISTED_QUERY_ONLY)


@dataclass(frozen=True)
class RequestedDocument:
    text: str | None  # None: the request names no document (Strawberry answers that)
    register_as: str | None = None  # an APQ hash to store the text under once it validates


def _apq_hash(persisted_query):
    if not isinstance(persisted_query, dict) or not isinstance(persisted_query.get("sha256Hash"), str):
        raise PersistedDocumentRefusal(
            'extensions.persistedQuery must be {"version": 1, "sha256Hash": "<hex>"}.', BAD_USER_INPUT, 400
        )
    if persisted_query.get("version") != APQ_VERSION:
        raise PersistedDocumentRefusal("Unsupported persisted query version", BAD_USER_INPUT, 400)
    return persisted_query["sha256Hash"].lower()


def _named_ids(extensions, fields):
    """[(where, id)] of every way the request names a document by id."""
    named = []
    for name in ID_FIELDS:
        value = fields.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise BadRequest(f"The GraphQL operation's `{name}` must be a string, if provided.")
            named.append((name, value))
    persisted_query = (extensions or {}).get("persistedQuery")
    if persisted_query is not None:
        named.append(("extensions.persistedQuery", _apq_hash(persisted_query)))
    return named


def requested_document(query, extensions, fields):
    """The document a request runs, from its `query`, its `extensions` and its other fields (the
    body's object for POST, the query string for GET); PersistedDocumentRefusal when it runs none."""
    named = _named_ids(extensions, fields)
    if len(named) > 1:
        raise BadRequest(f"Name the document once: {' and '.join(where for where, _ in named)} both do.")
    if query:
        if settings.GRAPHQL_TRUSTED_DOCUMENTS_ONLY:
            raise PersistedDocumentRefusal(*ONLY)
        if not named:
            return RequestedDocument(query)
        where, document_hash = named[0]
        if where in ID_FIELDS:
            raise BadRequest(f"Send the document's text (`query`) or its id (`{where}`), not both.")
        if hashlib.sha256(query.encode()).hexdigest() != document_hash:
            raise PersistedDocumentRefusal("provided sha does not match query", BAD_USER_INPUT, 400)
        return RequestedDocument(query, register_as=document_hash)
    if not named:
        return RequestedDocument(None)
    document_id = named[0][1]
    trusted = trusted_documents().get(document_id)
    if trusted is not None:
        return RequestedDocument(trusted.text)
    registered = None if settings.GRAPHQL_TRUSTED_DOCUMENTS_ONLY else registered_text(canonical_id(document_id))
    if registered is None:
        raise PersistedDocumentRefusal(*NOT_FOUND)
    return RequestedDocument(registered)


def _slot(document_hash):
    digest = hashlib.sha256(document_hash.encode()).digest()
    return f"apq:{int.from_bytes(digest[:8], 'big') % settings.GRAPHQL_APQ_MAX_ENTRIES}"


def registered_text(document_hash):
    """The text registered under this hash, or None."""
    entry = caches[settings.PERSISTED_QUERIES_CACHE].get(_slot(document_hash))
    return entry[1] if entry is not None and entry[0] == document_hash else None


def register(document_hash, text):
    """Store a validated APQ document; longer ones run every time they are sent but are not kept."""
    if len(text) <= CACHED_QUERY_LENGTH:
        caches[settings.PERSISTED_QUERIES_CACHE].set(_slot(document_hash), (document_hash, text), timeout=None)


class PersistedQueryRegistration(SchemaExtension):
    """Stores an APQ registration once its document has validated, as Apollo Server does: a document
    that cannot run is never kept."""

    def on_validate(self):
        yield
        context = self.execution_context
        register_as = getattr(context.context, "register_document_as", None)
        if register_as is not None and not context.pre_execution_errors:
            register(register_as, context.query)
