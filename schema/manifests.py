"""Trusted documents (docs/persisted-documents.md): the manifest files GRAPHQL_TRUSTED_DOCUMENTS names.

Each file is a JSON object of document ids to document texts, `{"<id>": "<document>"}`: the file
relay-compiler's `persistConfig` writes and the `persisted-documents.json` of GraphQL Code
Generator's client preset are both such files, used as they are. An id given as `sha256:<hex>`
is the same id as `<hex>`, in a file and in a request.

The files are read, parsed and validated against the schema once, when the server starts
(SchemaConfig.ready): a file that is not such an object, or a document that does not parse or
validate, stops the server with a message naming the file and the id, so a deploy cannot ship a
frontend the API cannot run. Requests then reuse the parsed document (schema.limits); the limits
that depend on settings (depth, aliases, fields, tokens, introspection) and on variables (nodes)
are checked for each request, as for text.
"""

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from graphql import GraphQLError, Lexer, Source, TokenKind, parse, specified_rules, validate
from graphql.language import DocumentNode
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

SHA256_PREFIX = "sha256:"
SCHEMA_RULES = (*specified_rules, MaybeNullValidationRule, OneOfInputValidationRule)


def canonical_id(document_id):
    """The id a document is known by: `sha256:<hex>` and `<hex>` name the same document."""
    return document_id.removeprefix(SHA256_PREFIX)


def token_count(text):
    """Tokens of a document as graphql-core's parser counts them against its max_tokens."""
    lexer, count = Lexer(Source(text)), 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


@dataclass(eq=False)
class TrustedDocument:
    id: str
    text: str
    document: DocumentNode
    tokens: int
    # schema.limits' validation result for each set of limits it was checked with: in practice one.
    validations: dict = field(default_factory=dict)


class TrustedDocuments:
    def __init__(self, documents=()):
        self.by_id = {document.id: document for document in documents}
        self.by_text = {document.text: document for document in documents}

    def __len__(self):
        return len(self.by_id)

    def get(self, document_id):
        return self.by_id.get(canonical_id(document_id))

    def with_text(self, text):
        """The trusted document whose text this is, so a request for it needs no parsing."""
        return self.by_text.get(text)


def _read(path):
    """The manifest's {id: text}, or the reason it is not a manifest."""
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        return None, f"cannot be read ({error.strerror})"
    except ValueError:
        return None, "is not JSON"
    if not isinstance(manifest, dict) or not all(isinstance(text, str) for text in manifest.values()):
        return None, 'is not a JSON object of document ids to document texts, like {"<id>": "query { ... }"}'
    return manifest, None


def _check(graphql_schema, text):
    """(the parsed document, None), or (None, why it cannot run against the schema)."""
    try:
        document = parse(text)
    except GraphQLError as error:
        return None, error.message
    errors = validate(graphql_schema, document, SCHEMA_RULES)
    return (None, " ".join(error.message for error in errors)) if errors else (document, None)


def load(paths, graphql_schema):
    """The trusted documents of the manifest files at `paths`; ImproperlyConfigured naming every problem."""
    problems, documents = [], {}
    for path in paths:
        manifest, problem = _read(path)
        if problem:
            problems.append(f"{path} {problem}")
            continue
        for document_id, text in manifest.items():
            key = canonical_id(document_id)
            document, problem = _check(graphql_schema, text)
            if problem:
                problems.append(f"{path}: document {document_id!r} does not validate against the schema: {problem}")
            elif key in documents and documents[key].text != text:
                problems.append(f"{path}: document {document_id!r} has another text in an earlier file")
            else:
                documents[key] = TrustedDocument(key, text, document, token_count(text))
    if problems:
        raise ImproperlyConfigured("GRAPHQL_TRUSTED_DOCUMENTS: " + "\n".join(problems))
    return TrustedDocuments(documents.values())


@lru_cache(maxsize=4)
def _loaded(paths):
    from schema.schema import schema  # the schema is built from modules that use this one

    return load([settings.BASE_DIR / path for path in paths], schema._schema)  # an absolute path stays itself


def trusted_documents():
    """The documents of settings.GRAPHQL_TRUSTED_DOCUMENTS (relative paths from the project folder)."""
    return _loaded(tuple(settings.GRAPHQL_TRUSTED_DOCUMENTS))
