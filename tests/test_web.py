"""Web surface: security headers on every response, JSON errors under /api, HTML elsewhere."""

from __future__ import annotations


def test_security_headers_everywhere(app):
    client = app.test_client()
    for path in ("/login", "/", "/api/documents/1/annotations", "/no-such-page", "/static/app.css"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_errors_are_json_under_api_and_html_elsewhere(app):
    client = app.test_client()
    # Anything under /api asks a logged-out caller to log in, in JSON.
    response = client.get("/api/nothing")
    assert response.status_code == 401 and response.json == {"error": "authentication required"}
    page = client.get("/nothing")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_login_form_needs_csrf(app):
    response = app.test_client().post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400


def test_healthz(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
