"""The floor: a minimal Flask app answering precomputed bytes, served like the mock for comparison.

The benchmark writes the documented page's body and headers (as the mock serves them) to the JSON
file named by BENCH_FLOOR_PAGE, and runs this app under the mock's own gunicorn settings.
"""

import json
import os

from flask import Flask, Response

with open(os.environ["BENCH_FLOOR_PAGE"], encoding="utf-8") as _file:
    _page = json.load(_file)
BODY = _page["body"].encode()
HEADERS = _page["headers"]

app = Flask(__name__)


@app.get("/chatbots/<chatbot_id>/conversations")
def conversations(chatbot_id):
    """The same bytes on every request: what any Flask mock costs at least."""
    return Response(BODY, headers=HEADERS, mimetype="application/json")
