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


def test_an_unhandled_error_shows_no_trace_and_is_logged_as_one_json_line(app):
    import io
    import json

    def boom():
        raise RuntimeError("boom: internal detail 4711")

    app.add_url_rule("/boom", view_func=boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production, not as in TESTING
    log = io.StringIO()
    app.logger.handlers[0].setStream(log)
    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Traceback" not in body and "4711" not in body and "RuntimeError" not in body
    entries = [json.loads(line) for line in log.getvalue().splitlines()]
    error = next(entry for entry in entries if entry["level"] == "ERROR")
    assert error["path"] == "/boom" and error["method"] == "GET" and error["user_id"] is None
    assert error["exception"] == "RuntimeError" and "4711" in error["traceback"]


def test_behind_an_https_proxy(database_url, tmp_path, monkeypatch):
    """Secure session cookie, and the client's address from X-Forwarded-For (one proxy hop)."""
    import re

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from annotator import create_app
    from annotator.app import db
    from annotator.models import LoginAttempt

    monkeypatch.setenv("ANNOTATOR_BEHIND_HTTPS_PROXY", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SECRET_KEY": "proxy-test"})
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "annotate.example"}
    page = client.get("/login", headers=forwarded)
    assert "Secure" in page.headers["Set-Cookie"]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/login", headers=forwarded | {"Referer": "https://annotate.example/login"},
                           data={"username": "nobody", "password": "wrong password", "csrf_token": token})
    assert response.status_code == 401
    with app.app_context():
        with Session(db.engine) as session:
            assert session.scalars(select(LoginAttempt.address)).all() == ["203.0.113.9"]
        db.engine.dispose()


def test_the_app_makes_no_outgoing_requests():
    """No server-side request forgery is possible if the app never fetches a URL: no module of
    the package imports an HTTP client."""
    import re
    from pathlib import Path

    import annotator

    client = re.compile(r"^\s*(import|from)\s+(requests|httpx|urllib3|aiohttp|urllib\.request|http\.client)\b", re.M)
    offenders = [str(path) for path in Path(annotator.__file__).parent.rglob("*.py") if client.search(path.read_text())]
    assert offenders == []
