"""The GraphiQL page loads everything from this server, and tells the browser to load nothing else."""

from html.parser import HTMLParser

from django.test import override_settings


class LinkedResources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in {"src", "href", "data-assets", "data-endpoint"}]


def graphiql_page(client):
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    return response


@override_settings(GRAPHIQL=True)
def test_the_page_links_only_to_this_server(client):
    page = LinkedResources()
    page.feed(graphiql_page(client).content.decode())
    assert "/static/graphiql/graphiql.js" in page.urls
    assert "/static/graphiql/graphiql.css" in page.urls
    assert all(url.startswith("/") and not url.startswith("//") or url == "data:," for url in page.urls), page.urls


@override_settings(GRAPHIQL=True)
def test_the_content_security_policy_allows_no_other_origin(client):
    policy = graphiql_page(client)["Content-Security-Policy"]
    sources = {directive.split()[0]: set(directive.split()[1:]) for directive in policy.split("; ")}
    assert sources["default-src"] == {"'none'"}
    assert sources["script-src"] == sources["worker-src"] == sources["connect-src"] == {"'self'"}
    assert sources["style-src"] == {"'self'", "'unsafe-inline'"}
    assert sources["font-src"] == sources["img-src"] == {"'self'", "data:"}
    assert sources["frame-ancestors"] == sources["base-uri"] == sources["form-action"] == {"'none'"}
