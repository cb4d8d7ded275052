"""What answers HTTP: the view, the fast path, pages, scenarios, problems, CORS, docs and OpenAPI."""
