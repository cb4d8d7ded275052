"""Marshmallow schemas: the single description of requests, conversations, fixtures and settings.

Nothing here imports Flask, so fixture files and settings can be checked without an app.
"""

from conversations_mock.schemas.conversation import (
    PLATFORMS,
    SNS_USER_ID_PATTERNS,
    STATES,
    ConversationSchema,
    MessageSchema,
    format_timestamp,
)
from conversations_mock.schemas.fixture import ChatbotFixtureSchema, FixtureFileSchema
from conversations_mock.schemas.problem import PROBLEM_CONTENT_TYPE, ProblemSchema
from conversations_mock.schemas.request import (
    API_KEY_HEADER,
    API_KEY_PATTERN,
    CONVERSATIONS_PATH,
    ApiKeyHeaderSchema,
    ChatbotPathSchema,
    ConversationsQuerySchema,
    PageQuery,
    canonical_chatbot_id,
)
from conversations_mock.schemas.settings import SettingsSchema

__all__ = [
    "API_KEY_HEADER",
    "API_KEY_PATTERN",
    "CONVERSATIONS_PATH",
    "PLATFORMS",
    "PROBLEM_CONTENT_TYPE",
    "SNS_USER_ID_PATTERNS",
    "STATES",
    "ApiKeyHeaderSchema",
    "ChatbotFixtureSchema",
    "ChatbotPathSchema",
    "ConversationSchema",
    "ConversationsQuerySchema",
    "FixtureFileSchema",
    "MessageSchema",
    "PageQuery",
    "ProblemSchema",
    "SettingsSchema",
    "canonical_chatbot_id",
    "format_timestamp",
]
