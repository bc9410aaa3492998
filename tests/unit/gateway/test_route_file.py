"""The route file: every mistake named with its line, matching as written, and ``explain``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gateway.proxies import documented_config
from tokenward.cli import main
from tokenward.errors import ApiError
from tokenward.gateway.explain import explain
from tokenward.gateway.original import original_request, path_segments
from tokenward.gateway.route_file import RouteFileError, parse_routes

GOOD = """\
default = "deny"

[[route]]
path = "/health"
methods = ["GET"]
access = "public"

[[route]]
path = "/orgs/{org}/issues"
organization = "{org}"
scope = "project:read"

[[route]]
path = "/orgs/{org}/files/{file:path}"
organization = "{org}"

[[route]]
path = "/issues/{id}"
organization_from = "issue"
scope = "project:write"

[resolver.issue]
url = "http://upstream.internal/issues/{id}/org"
ttl_seconds = 30
"""


def problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(RouteFileError) as caught:
        parse_routes(text, "routes.toml")
    return [(problem.line, problem.message) for problem in caught.value.problems]


def test_a_valid_file_matches_first_rule_first_and_by_method() -> None:
    table = parse_routes(GOOD)
    found = table.match("GET", ("orgs", "acme", "issues"))
    assert found is not None and found.route.line == 8 and dict(found.values) == {"org": "acme"}
    found = table.match("HEAD", ("health",))
    assert found is not None and found.route.access == "public"
    assert table.match("POST", ("health",)) is None
    found = table.match("GET", ("orgs", "acme", "files", "a b", "c.txt"))
    assert found is not None and found.values["file"] == "a b/c.txt"
    assert table.match("GET", ("orgs", "acme", "files")) is None
    assert table.match("GET", ("orgs", "acme", "issues", "")) is None  # trailing slash differs
    assert table.match("GET", ("orgs", "", "issues")) is None


def test_each_mistake_is_named_with_its_line() -> None:
    text = """\
default = "maybe"
colour = "blue"

[[route]]
path = "/orgs/{org}/x"
organization = "{org}"
scope = "project:fly"

[[route]]
path = "/issues/{id}"
organization_from = "nope"

[[route]]
path = "/a/{rest:path}/b"
access = "public"

[[route]]
path = "/u"
access = "user"
scope = "org:read"
methods = ["GE T"]

[[route]]
path = "/both/{org}"
access = "public"
organization = "{org}"

[[route]]
path = "/p/{slug}"
organization = "{org}"

[[route]]
path = "/t/{id}"
organization_from = "issue"

[resolver.issue]
url = "http://upstream/{id}/{other}"
ttl_seconds = -1
"""
    found = problems(text)
    lines = [line for line, _ in found]
    assert lines == sorted(lines)
    by_line = dict(found)
    assert "default" in by_line[1]
    assert "unknown key 'colour'" in by_line[2]
    assert "project:fly" in by_line[7]
    assert "no [resolver.nope]" in by_line[11]
    assert "must be the last segment" in by_line[14]
    assert "scope applies to organization routes only" in by_line[20]
    assert "GE T" in by_line[21]
    assert "exactly one of" in by_line[23]
    assert "has no {org} placeholder" in by_line[30]
    assert "ttl_seconds" in by_line[38]
    # the route on line 32 is not blamed for its broken resolver twice
    assert len(found) == 10, found


def test_syntax_errors_name_their_line() -> None:
    assert problems('default = "deny"\n\n[[route]\npath = "/x"\n')[0][0] == 3


def test_a_resolver_placeholder_the_path_lacks_is_named() -> None:
    text = GOOD.replace("/issues/{id}/org", "/issues/{number}/org")
    assert problems(text) == [(19, "[resolver.issue] uses {number}, which this path does not have")]


def test_ambiguous_paths_are_refused_not_guessed() -> None:
    assert path_segments("/orgs/ac%20me/issues?x=1") == ("orgs", "ac me", "issues")
    for uri in (
        "/health/../orgs/acme",
        "/health/%2e%2E/orgs/acme",
        "/orgs/acme%2fother/issues",
        "/orgs/acme%5Cother",
        "/orgs//acme",
        "/orgs/%ff",
        "orgs/acme",
    ):
        with pytest.raises(ApiError) as caught:
            path_segments(uri)
        assert caught.value.status == 400, uri


def test_the_original_request_is_read_the_way_each_proxy_sends_it() -> None:
    caddy = {"x-forwarded-method": "post", "x-forwarded-uri": "/a?b=1"}
    assert original_request(caddy, "GET", "/forward-auth", "").method == "POST"
    nginx = {"x-original-method": "DELETE", "x-original-uri": "/a/b"}
    assert original_request(nginx, "GET", "/forward-auth", "").segments == ("a", "b")
    envoy = original_request({}, "PUT", "/forward-auth/orgs/acme%20x", "q=1")
    assert (envoy.method, envoy.uri, envoy.segments) == (
        "PUT",
        "/orgs/acme%20x?q=1",
        ("orgs", "acme x"),
    )
    with pytest.raises(ApiError):
        original_request({"x-original-uri": "/a"}, "GET", "/forward-auth", "")


def test_explain_says_which_rule_and_what_it_needs() -> None:
    table = parse_routes(GOOD, "routes.toml")
    assert explain(table, "get", "/issues/42?x=1").splitlines() == [
        "GET /issues/42?x=1",
        "  matches routes.toml:17: any method /issues/{id}",
        "  {id} = 42",
        "  organization: asked of resolver 'issue': GET http://upstream.internal/issues/42/org "
        "(cached 30 s; 404 there is 404 here, any failure is 503)",
        "  needs: a member of the organization (or its organization token) with the "
        "project:write scope, then the organization's own rules: two-factor, personal tokens "
        "allowed, revoked or too long-lived",
    ]
    lines = explain(table, "GET", "/orgs/acme/issues").splitlines()
    assert lines[1:4] == [
        "  matches routes.toml:8: any method /orgs/{org}/issues",
        "  {org} = acme",
        "  organization: acme (from {org})",
    ]
    assert "project:read" in lines[4]
    assert explain(table, "POST", "/health").splitlines()[1] == (
        '  no route matches: refused with 404 not-found (default = "deny")'
    )
    assert "400 invalid-request" in explain(table, "GET", "/health/../x")


def test_the_commands_check_and_explain_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "routes.toml"
    good.write_text(GOOD)
    assert main(["gateway", "check-routes", str(good)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"{good}: 4 routes, 1 resolver, unmatched requests: refused (404): OK"
    )
    assert main(["gateway", "explain", str(good), "GET", "/orgs/acme/issues"]) == 0
    assert "organization: acme (from {org})" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('scope = "project:read"', 'scope = "everything"'))
    assert main(["gateway", "check-routes", str(bad)]) == 1
    assert capsys.readouterr().err.startswith(f"{bad}:11: unknown scope 'everything'")
    assert main(["gateway", "explain", str(bad), "GET", "/"]) == 1
    # The server refuses to start on it, with the same words, before touching the database.
    monkeypatch.setenv("TOKENWARD_GATEWAY_ROUTES", str(bad))
    monkeypatch.setenv("TOKENWARD_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "1"])
    assert f"{bad}:11: unknown scope 'everything'" in str(stopped.value)
    assert not (tmp_path / "never.db").exists()


def test_the_documented_example_is_valid() -> None:
    table = parse_routes(documented_config("routes"), "docs/gateway.md")
    assert len(table.routes) == 5 and set(table.resolvers) == {"issue"}
    assert "organization: acme (from {org})" in explain(table, "GET", "/orgs/acme/issues")
