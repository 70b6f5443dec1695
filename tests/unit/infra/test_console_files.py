"""The local stack serves the web console at `/` and `/console/*`; everything else still reaches the app."""
from __future__ import annotations

from pathlib import Path

from chalice import Chalice
from chalice.config import Config

from infra.local.console_files import CONSOLE_DIR, ConsoleFiles
from infra.local.http_gateway import ApiGateway


def gateway(root: Path | None = None) -> ApiGateway:
    app = Chalice(app_name="herald", configure_logs=False)

    @app.route("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    files = ConsoleFiles(root) if root else ConsoleFiles()
    return ApiGateway(app, Config(chalice_stage="local", function_name="api_handler"), console=files)


def header(answer, name):
    return dict((k.lower(), v) for k, v in answer.headers)[name.lower()]


def test_the_root_is_the_consoles_page_and_its_assets_are_under_console():
    page = gateway().answer("GET", "/", {}, None)
    script = gateway().answer("GET", "/console/app.js?v=1", {}, None)

    assert page.status == 200 and b"<main" in page.body
    assert header(page, "content-type").startswith("text/html")
    assert "script-src 'self'" in header(page, "content-security-policy")
    assert script.status == 200 and header(script, "content-type").startswith("text/javascript")
    assert script.body == (CONSOLE_DIR / "app.js").read_bytes()


def test_the_api_is_still_the_apps():
    answer = gateway().answer("GET", "/health", {}, None)

    assert (answer.status, answer.body) == (200, b'{"status":"ok"}')


def test_nothing_outside_the_folder_nor_hidden_nor_of_an_odd_type_is_served(tmp_path):
    (tmp_path / "console").mkdir()
    (tmp_path / "console" / "index.html").write_text("<main></main>")
    (tmp_path / "console" / ".env").write_text("SECRET=1")
    (tmp_path / "console" / "build.py").write_text("print()")
    (tmp_path / "secret.js").write_text("x")
    served = gateway(tmp_path / "console")

    for path in ("/console/../secret.js", "/console/%2e%2e/secret.js", "/console/.env", "/console/build.py",
                 "/console/", "/console/missing.js"):
        answer = served.answer("GET", path, {}, None)
        assert answer.status == 404, path
        assert b"not_found" in answer.body


def test_only_reads_are_served_as_files():
    answer = gateway().answer("POST", "/", {}, None)

    assert answer.status == 404  # the app has no POST /: the API's own answer, never the page
