"""The error body every failure answers with: RFC 9457 problem details."""

from marshmallow import Schema, fields

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemSchema(Schema):
    """An application/problem+json document; `errors` maps each faulty input to its messages."""

    type = fields.String(required=True, dump_default="about:blank")
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())
