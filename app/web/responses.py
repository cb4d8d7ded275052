"""The app's Response: an answer without content (204, 304) carries no Content-Type.

werkzeug gives every Response its default text/html and drops it on a 304 only, so a 204 said
`Content-Type: text/html` about a body it does not have. Flask makes the app's responses from
`app.response_class` (a view's `("", 204)`, OPTIONS answers, errors): set there, this class covers
every route. A view that builds a flask.Response itself bypasses it: return `"", 204` instead.
"""

from flask import Response

# Statuses whose answers never have content (RFC 9110, 15.3.5 and 15.4.5).
NO_CONTENT = (204, 304)


class MockResponse(Response):
    """Flask's Response, whose headers leave out Content-Type when its status has no content."""

    def get_wsgi_headers(self, environ):
        """The headers sent (werkzeug's), without Content-Type on a 204 or 304."""
        headers = super().get_wsgi_headers(environ)
        if self.status_code in NO_CONTENT:
            headers.remove("Content-Type")
        return headers
