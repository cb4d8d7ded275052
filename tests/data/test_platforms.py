"""The generator's per-platform copies read a conversation's head digest as the plain functions read its bytes."""

from hypothesis import given
from hypothesis import strategies as st

from conversations_mock.data.generator import _TEXT_PLATFORMS, SNS_USER_ID_OF_HEAD
from conversations_mock.data.platforms import (
    PLATFORM_LOCALES,
    TEXT_PLATFORM_TABLE,
    sns_user_id,
    uuid4_hex,
    uuid4_text,
)

heads = st.binary(min_size=64, max_size=64)


@given(heads, st.sampled_from(sorted(SNS_USER_ID_OF_HEAD)))
def test_sns_user_ids_of_a_head_match_sns_user_id(head, platform):
    assert SNS_USER_ID_OF_HEAD[platform](head, head.hex()) == sns_user_id(platform, head[16:32])


def test_every_text_platform_has_its_user_ids():
    texting = {platform for platform, locales in PLATFORM_LOCALES.items() if locales}
    assert set(SNS_USER_ID_OF_HEAD) == set(TEXT_PLATFORM_TABLE) == texting


@given(st.integers(0, 65535), st.integers(0, 255))
def test_text_platform_rows_match_the_tables(pick, language):
    platform, users, locale_of = _TEXT_PLATFORMS[pick % len(_TEXT_PLATFORMS)]
    assert platform == TEXT_PLATFORM_TABLE[pick % len(TEXT_PLATFORM_TABLE)]
    assert users is SNS_USER_ID_OF_HEAD[platform]
    locales = PLATFORM_LOCALES[platform]
    assert locale_of[language] == locales[language % len(locales)]


@given(st.binary(min_size=16, max_size=16))
def test_uuid4_hex_formats_the_bytes_its_digits_spell(raw):
    assert uuid4_hex(raw.hex()) == uuid4_text(raw)
