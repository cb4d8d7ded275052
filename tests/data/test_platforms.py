"""Platform tables: every text platform has its users' ids, and the generator's rows agree with the tables."""

import re

from hypothesis import given
from hypothesis import strategies as st

from conversations_mock.data.generator import text_rows
from conversations_mock.data.messages import SHARED_POOLS
from conversations_mock.data.platforms import PLATFORM_LOCALES, SNS_USER_IDS, TEXT_PLATFORM_TABLE
from tests.data.test_generator import SNS_USER_IDS as SHAPES


def test_every_text_platform_has_its_user_ids():
    texting = {platform for platform, locales in PLATFORM_LOCALES.items() if locales}
    assert set(SNS_USER_IDS) == set(TEXT_PLATFORM_TABLE) == texting


@given(st.binary(min_size=16, max_size=16), st.sampled_from(sorted(SNS_USER_IDS)))
def test_user_ids_have_their_platforms_shape(raw, platform):
    assert re.fullmatch(SHAPES[platform], SNS_USER_IDS[platform](raw, raw.hex()))


@given(st.integers(0, 65535), st.integers(0, 255))
def test_text_platform_rows_match_the_tables(pick, language):
    platform, users, texts_of = text_rows(SHARED_POOLS)[pick % len(TEXT_PLATFORM_TABLE)]
    assert platform == TEXT_PLATFORM_TABLE[pick % len(TEXT_PLATFORM_TABLE)]
    assert users is SNS_USER_IDS[platform]
    locales = PLATFORM_LOCALES[platform]
    assert texts_of[language] == SHARED_POOLS.get(locales[language % len(locales)])
