"""Every page the product serves carries a strict Content-Security-Policy.

Escaping is the first defence against customer-written markup; the CSP is the second: even a template
that forgot to escape could not run an inline script, an event handler, eval'd code or a plugin, load a
script from another host, re-point relative URLs with <base>, or be framed by another site.
The pages are the URL conf's own routes (the same walk as tests/test_permissions.py), opened as the
owner and as an anonymous visitor, plus the API's documentation and schema.
"""

import pytest

from tests.test_permissions import ROUTES, build, sample_objects

# Sources that would let injected markup run script.
UNSAFE_SCRIPT_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'"}
UNSAFE_SCHEMES = {"*", "data:", "blob:", "http:", "https:", "javascript:", "filesystem:"}


def parse(header: str) -> dict[str, list[str]]:
    policy = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            # The first occurrence of a directive wins; later ones are ignored by browsers.
            policy.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return policy


def problems(header: str | None) -> list[str]:
    """What is not strict about a CSP header; [] for a strict one."""
    if not header:
        return ["no Content-Security-Policy header"]
    policy = parse(header)
    found = []
    for directive in ("script-src", "script-src-elem", "script-src-attr"):
        sources = policy.get(directive, policy.get("script-src", policy.get("default-src")))
        if sources is None:
            found.append(f"{directive}: not restricted (no script-src, no default-src)")
            continue
        bad = sorted((set(sources) & UNSAFE_SCRIPT_SOURCES) | (set(sources) & UNSAFE_SCHEMES))
        if bad:
            found.append(f"{directive} allows {' '.join(bad)}")
    if policy.get("object-src") != ["'none'"]:
        found.append(f"object-src is {policy.get('object-src')}, not 'none'")
    if policy.get("base-uri") not in (["'none'"], ["'self'"]):
        found.append(f"base-uri is {policy.get('base-uri')}, not 'self' or 'none'")
    if policy.get("frame-ancestors") not in (["'none'"], ["'self'"]):
        found.append(f"frame-ancestors is {policy.get('frame-ancestors')}, not 'none' or 'self'")
    if "form-action" not in policy:
        found.append("form-action is not restricted")
    default = policy.get("default-src")
    if default is None or set(default) & UNSAFE_SCHEMES:
        found.append(f"default-src is {default}")
    return found


@pytest.mark.parametrize(
    "header,expected",
    [
        (
            "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
            [],
        ),
        (None, ["no Content-Security-Policy header"]),
        (
            "default-src 'self'; script-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
            [
                "script-src allows 'unsafe-inline'",
                "script-src-elem allows 'unsafe-inline'",
                "script-src-attr allows 'unsafe-inline'",
            ],
        ),
        (
            "default-src *; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
            [
                "script-src allows *",
                "script-src-elem allows *",
                "script-src-attr allows *",
                "default-src is ['*']",
            ],
        ),
        (
            "default-src 'self'; script-src 'self' 'unsafe-eval'; form-action 'self'",
            [
                "script-src allows 'unsafe-eval'",
                "script-src-elem allows 'unsafe-eval'",
                "script-src-attr allows 'unsafe-eval'",
                "object-src is None, not 'none'",
                "base-uri is None, not 'self' or 'none'",
                "frame-ancestors is None, not 'none' or 'self'",
            ],
        ),
    ],
)
def test_the_checker_tells_strict_from_loose(header, expected):
    assert problems(header) == expected


def test_the_configured_policy_is_strict(settings):
    assert problems(settings.SMMDESK_CSP) == []


GET_ROUTES = [(r, p, n) for r, p, n in ROUTES]


def fill_route(route, name, cast, objects):
    if "<slug:slug>" in route and "<slug:page>" not in route:
        return build(route, name, cast.workspace.slug, objects)
    url = "/" + route.replace("<slug:slug>", cast.workspace.slug).replace("<slug:page>", "no-such-page")
    for placeholder, value in (
        ("<int:pk>", "999999"),
        ("<int:channel_id>", str(objects["channel"])),
        ("<str:token>", "nope"),
        ("<uidb64>", "MQ"),
        ("<token>", "set-password"),
    ):
        url = url.replace(placeholder, value)
    return url


def test_every_page_of_the_url_conf_has_a_strict_policy(cast, client):
    """Every route, as the owner and as an anonymous visitor, answers with the strict policy, whatever
    its status (a 404 or a 403 page renders customer-supplied parts of the address too)."""
    mine, _theirs = sample_objects(cast)
    failures = []
    for who in ("owner", "anonymous"):
        client.logout()
        if who == "owner":
            client.force_login(cast.users["owner"])
        for route, _pattern, name in GET_ROUTES:
            url = fill_route(route, name, cast, mine)
            response = client.get(url)
            found = problems(response.headers.get("Content-Security-Policy"))
            if found:
                failures.append((who, name, url, response.status_code, found))
    assert not failures, failures


@pytest.mark.parametrize(
    "path",
    ["/api/docs", "/api/openapi.json", "/no/such/page/", "/accounts/login/?next=%3Cscript%3E"],
)
def test_api_docs_and_error_pages_have_the_strict_policy_too(client, db, path):
    response = client.get(path)
    assert problems(response.headers.get("Content-Security-Policy")) == [], path


def test_the_api_docs_page_loads_its_scripts_from_this_server(client, db):
    """Swagger UI comes from django-ninja's bundled static files, so the strict policy lets it run."""
    page = client.get("/api/docs").content.decode()
    assert "cdn.jsdelivr.net" not in page
    assert "/static/ninja/swagger-ui-bundle.js" in page
    # No inline script: the only <script> without src is the JSON settings block, which is data.
    inline = [chunk for chunk in page.split("<script")[1:] if "src=" not in chunk.split(">", 1)[0]]
    assert all('type="application/json"' in chunk.split(">", 1)[0] for chunk in inline), inline


def test_other_security_headers_go_with_every_page(cast, client):
    client.force_login(cast.users["owner"])
    response = client.get(f"/w/{cast.workspace.slug}/inbox/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
