"""The Conversation object of the Get Conversations API, and the rules its values follow."""

import re
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

# The API document shows these values; the names of the states come from the issue tracker.
PLATFORMS = ("web", "whatsapp", "line", "voice", "instagram", "facebook-messenger", "navertalktalk")
STATES = ("in_progress", "resolved", "closed")
SENDER_TYPES = ("bot",)

# What each platform's sns_user_id looks like in the document (voice has none).
SNS_USER_ID_PATTERNS = {
    "web": re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
    "whatsapp": re.compile(r"[1-9][0-9]{7,14}"),
    "line": re.compile(r"U[0-9a-f]{32}"),
    "instagram": re.compile(r"[1-9][0-9]{15}"),
    "facebook-messenger": re.compile(r"[1-9][0-9]{15}"),
    "navertalktalk": re.compile(r"[A-Za-z0-9_-]{22}"),
}
SNS_USER_ID_SHAPES = {
    "web": "a lowercase UUID4",
    "whatsapp": "a phone number's 8 to 15 digits",
    "line": "'U' followed by 32 lowercase hex digits",
    "instagram": "a 16-digit scoped id",
    "facebook-messenger": "a 16-digit scoped id",
    "navertalktalk": "a 22-character URL-safe id",
}
VOICE_PATH = re.compile(r"conversation-voice_assistant_room_[0-9]+\.ogg")


def format_timestamp(moment: datetime) -> str:
    """Print a moment as the API does: UTC, '+00:00', microseconds without trailing zeros."""
    text = moment.astimezone(timezone.utc).isoformat()
    if moment.microsecond:
        head, offset = text[:-6], text[-6:]
        text = head.rstrip("0") + offset
    return text


class Timestamp(fields.Field):
    """An ISO 8601 moment with a UTC offset, printed the way the API prints it."""

    default_error_messages = {
        "invalid": "Not an ISO 8601 timestamp with a UTC offset, e.g. '2025-03-06T02:30:18.45229+00:00'."
    }

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_timestamp(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as error:
            raise self.make_error("invalid") from error
        if moment.tzinfo is None:
            raise self.make_error("invalid")
        return moment.astimezone(timezone.utc)


class StrictBoolean(fields.Boolean):
    """true or false only: JSON's booleans, not 1, "yes" or "true"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class MessageSchema(Schema):
    """The object form of last_message."""

    error_messages = {"type": "Must be an object with content, id and sender_type."}

    content = fields.String(required=True)
    id = fields.UUID(required=True)
    sender_type = fields.String(required=True, validate=validate.OneOf(SENDER_TYPES))


class LastMessage(fields.Field):
    """last_message: null, the user's last text, or a message object."""

    default_error_messages = {
        "invalid": "Must be null, a string, or an object with content, id and sender_type."
    }

    def __init__(self, **kwargs):
        super().__init__(allow_none=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, dict):
            return MessageSchema().dump(value)
        return value

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            return MessageSchema().load(value)
        raise self.make_error("invalid")


class ConversationSchema(Schema):
    """One conversation, fields in the document's (alphabetical) order."""

    error_messages = {"type": "Must be a conversation object."}

    active = StrictBoolean(required=True)
    chatbot_id = fields.UUID(required=True)
    created_at = Timestamp(required=True)
    id = fields.UUID(required=True)
    is_human_mode = StrictBoolean(required=True)
    last_message = LastMessage(required=True)
    metadata = fields.Dict(required=True, keys=fields.String())
    migrated_data = StrictBoolean(required=True)
    platform = fields.String(required=True, validate=validate.OneOf(PLATFORMS))
    session_token = fields.String(required=True, allow_none=True)
    sns_user_id = fields.String(required=True, allow_none=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    updated_at = Timestamp(required=True)
    user_id = fields.UUID(required=True, allow_none=True)
    voice_path = fields.String(required=True, allow_none=True)

    @validates_schema(skip_on_field_errors=True)
    def check_consistency(self, data, **kwargs):
        """Apply the rules that tie fields together, as the document's examples show them."""
        errors = {}
        if data["updated_at"] < data["created_at"]:
            errors["updated_at"] = ["Must not be earlier than created_at."]
        if data["active"] != (data["state"] == "in_progress"):
            errors["active"] = ["Must be true exactly when state is 'in_progress'."]
        if data["platform"] == "voice":
            errors.update(_voice_errors(data))
        else:
            errors.update(_text_platform_errors(data))
        if errors:
            raise ValidationError(errors)


def _voice_errors(data):
    errors = {}
    if data["sns_user_id"] is not None:
        errors["sns_user_id"] = ["Must be null on the voice platform."]
    if data["last_message"] is not None:
        errors["last_message"] = ["Must be null on the voice platform."]
    if data["metadata"] != {"type": "voice_chat"}:
        errors["metadata"] = ['Must be {"type": "voice_chat"} on the voice platform.']
    if data["voice_path"] is None or not VOICE_PATH.fullmatch(data["voice_path"]):
        errors["voice_path"] = [
            "Must name the recording, like 'conversation-voice_assistant_room_9570.ogg'."
        ]
    return errors


def _text_platform_errors(data):
    errors = {}
    platform = data["platform"]
    sns_user_id = data["sns_user_id"]
    if sns_user_id is None or not SNS_USER_ID_PATTERNS[platform].fullmatch(sns_user_id):
        errors["sns_user_id"] = [f"Must be {SNS_USER_ID_SHAPES[platform]} on the {platform} platform."]
    if data["voice_path"] is not None:
        errors["voice_path"] = ["Must be null except on the voice platform."]
    anonymous = data["metadata"].get("anonymous")
    if set(data["metadata"]) != {"anonymous"} or not isinstance(anonymous, bool):
        errors["metadata"] = ['Must be {"anonymous": true} or {"anonymous": false}.']
    elif anonymous != (data["user_id"] is None):
        errors["user_id"] = ["Must be null exactly when metadata.anonymous is true."]
    return errors
