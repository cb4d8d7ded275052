"""Fixture files: chatbots whose conversations are listed, or generated with a given count."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from conversations_mock.schemas.conversation import ConversationSchema, StrictBoolean

# A bound that keeps every generated count an ordinary integer; a billion is far past any demo.
MAX_GENERATED_COUNT = 1_000_000_000


class GeneratedSchema(Schema):
    """How to generate a chatbot's conversations instead of listing them."""

    error_messages = {"type": 'Must be an object like {"count": 1000}.'}

    count = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_GENERATED_COUNT))
    seed = fields.Integer(strict=True, validate=validate.Range(min=0), load_default=None)


class ChatbotFixtureSchema(Schema):
    """One chatbot: its id and either `conversations` or `generated`."""

    error_messages = {"type": "Must be an object with an id and either conversations or generated."}

    id = fields.UUID(required=True)
    name = fields.String()
    conversations = fields.List(fields.Nested(ConversationSchema))
    generated = fields.Nested(GeneratedSchema)
    shift = StrictBoolean(
        load_default=False,
        metadata={"description": "Move the listed conversations' moments so the latest falls just before the clock."},
    )

    @validates_schema(skip_on_field_errors=True)
    def check_source(self, data, **kwargs):
        """Require exactly one source of conversations, each belonging to this chatbot."""
        if ("conversations" in data) == ("generated" in data):
            raise ValidationError("Give exactly one of 'conversations' or 'generated'.")
        if data["shift"] and "generated" in data:
            raise ValidationError(
                {"shift": ["Only for listed conversations: generated ones follow the clock already."]}
            )
        errors = {}
        seen = set()
        for index, conversation in enumerate(data.get("conversations", ())):
            if conversation["chatbot_id"] != data["id"]:
                errors[index] = {"chatbot_id": ["Must equal the chatbot's id."]}
            elif conversation["id"] in seen:
                errors[index] = {"id": ["Repeats the id of an earlier conversation."]}
            seen.add(conversation["id"])
        if errors:
            raise ValidationError({"conversations": errors})


class FixtureFileSchema(Schema):
    """A fixture file: {"chatbots": [...]}."""

    error_messages = {"type": 'Must be a JSON object like {"chatbots": [...]}.'}

    chatbots = fields.List(fields.Nested(ChatbotFixtureSchema), required=True)
