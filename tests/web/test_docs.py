"""GET /docs: Swagger UI from the installed package, every asset local, pointed at /openapi.json."""

import re

import pytest

# What the page loads, by the attribute that names it: every one must be a path on this server.
ASSET_REFERENCE = re.compile(r'(?:src|href|data-spec-url)="([^"]*)"')
CONTENT_TYPES = {
    ".css": {"text/css"},
    ".js": {"text/javascript", "application/javascript"},
    ".png": {"image/png"},
    ".json": {"application/json"},
}


def _references(html):
    return ASSET_REFERENCE.findall(html)


@pytest.mark.parametrize("path", ["/docs", "/docs/"])
def test_docs_page_is_html_without_external_urls(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "swagger-ui" in html
    assert not re.search(r"(?i)(https?:)?//[a-z0-9]", html), "the page must load nothing from another host"
    references = _references(html)
    assert len(references) == 5
    assert all(reference.startswith("/") and not reference.startswith("//") for reference in references)


def test_docs_assets_answer_with_their_content_types(client):
    html = client.get("/docs").get_data(as_text=True)
    for reference in _references(html):
        # Files are streamed: closing the response closes the file.
        with client.get(reference) as response:
            assert response.status_code == 200, reference
            suffix = reference[reference.rindex(".") :]
            assert response.mimetype in CONTENT_TYPES[suffix], reference
            assert len(response.data) > 0


def test_docs_point_at_the_served_document_without_external_fetches(client):
    html = client.get("/docs").get_data(as_text=True)
    assert 'data-spec-url="/openapi.json"' in html
    init = client.get(re.search(r'src="(/docs/init[^"]*)"', html).group(1)).get_data(as_text=True)
    assert "dataset.specUrl" in init
    # Swagger UI fetches a validator badge from its own site unless told not to.
    assert "validatorUrl: null" in init
    assert not re.search(r"(?i)https?://", init)


def test_swagger_ui_bundle_is_the_packaged_one(client):
    from swagger_ui_bundle import swagger_ui_path

    with client.get("/docs/assets/swagger-ui-bundle.js") as response:
        assert response.data == (swagger_ui_path / "swagger-ui-bundle.js").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/docs/assets/nope.js",
        "/docs/assets/../__init__.py",
        "/docs/assets/%2e%2e/__init__.py",
        "/docs/assets/",
    ],
)
def test_unknown_assets_are_404_problems(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("base_path", ["", "/v1"])
def test_docs_and_document_need_no_api_key_and_stay_at_the_root(make_app, base_path):
    client = make_app({"base_path": base_path, "api_keys": "0" * 48}).test_client()
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200
