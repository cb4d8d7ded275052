"""Per-platform shapes: how often each platform appears, its users' ids and their languages."""

import base64

from conversations_mock.data.compiled import compiled

# Relative frequency of each platform among generated conversations (out of 100).
PLATFORM_WEIGHTS = {
    "web": 30,
    "whatsapp": 18,
    "instagram": 12,
    "facebook-messenger": 12,
    "line": 10,
    "voice": 10,
    "navertalktalk": 8,
}
PLATFORM_TABLE = tuple(p for p, weight in PLATFORM_WEIGHTS.items() for _ in range(weight))
# Generated histories place voice calls by their lives (one in each block of ten: its 10 in 100)
# and draw the other platforms from this table, so the weights above hold.
TEXT_PLATFORM_TABLE = tuple(p for p in PLATFORM_TABLE if p != "voice")

# Faker locales whose languages each platform's users write in.
PLATFORM_LOCALES = {
    "web": ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES"),
    "whatsapp": ("pt_BR", "es_ES", "en_IN", "id_ID", "en_US"),
    "instagram": ("en_US", "pt_BR", "es_ES", "fr_FR", "id_ID"),
    "facebook-messenger": ("en_US", "vi_VN", "fr_FR", "es_ES", "en_GB"),
    "line": ("th_TH", "ja_JP", "zh_TW"),
    "navertalktalk": ("ko_KR",),
    "voice": (),
}
ALL_LOCALES = tuple(sorted({loc for locales in PLATFORM_LOCALES.values() for loc in locales}))
# A chatbot's home: one of its platforms' locales, as often as that platform's users write in it.
HOME_LOCALES = tuple(
    locale
    for platform, weight in PLATFORM_WEIGHTS.items()
    for locale in PLATFORM_LOCALES[platform]
    for _ in range(weight)
)
# Each locale's offset from UTC in whole hours (standard time): where its afternoon falls.
UTC_OFFSETS = {
    "en_US": -5, "en_GB": 0, "de_DE": 1, "fr_FR": 1, "es_ES": 1, "pt_BR": -3, "en_IN": 5, "id_ID": 7,
    "vi_VN": 7, "th_TH": 7, "ja_JP": 9, "zh_TW": 8, "ko_KR": 9,
}

# WhatsApp ids are E.164 numbers without the '+': country code, then the subscriber digits.
WHATSAPP_NUMBERING = (("55", 11), ("52", 10), ("91", 10), ("62", 11), ("1", 10), ("34", 9), ("44", 10))


@compiled
def uuid4_hex(h: str) -> str:
    """Format 16 bytes written as 32 hex digits (the first 32 of `h`) as a version-4 UUID string."""
    # As uuid.UUID(bytes=raw, version=4) would, at a fraction of the cost: the version nibble
    # becomes 4 and the variant's two bits 10, so byte 8's high nibble is one of 8, 9, a, b.
    # Taking hex digits lets a caller hex a whole digest once and format several ids from it.
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{UUID_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


UUID_VARIANT = {digit: "89ab"[int(digit, 16) % 4] for digit in "0123456789abcdef"}


@compiled
def decimal_digits(raw: bytes, count: int) -> str:
    """A string of `count` decimal digits, the first not zero, drawn from `raw`."""
    number = int.from_bytes(raw, "big")
    scale = _SCALES[count]
    # first * 10**(count-1) + rest prints as the first digit, then rest padded to count-1 digits.
    return str((1 + number % 9) * scale + (number // 9) % scale)


_SCALES = {count: 10 ** (count - 1) for _, count in WHATSAPP_NUMBERING} | {16: 10**15}


# Each text platform's user ids, made from 16 random bytes and their 32 hex digits (a caller that has
# hexed a whole digest passes its slice, so no platform hexes again).
def _web_user(raw: bytes, hexed: str) -> str:
    return uuid4_hex(hexed)


def _whatsapp_user(raw: bytes, hexed: str) -> str:
    code, length = WHATSAPP_NUMBERING[raw[0] % len(WHATSAPP_NUMBERING)]
    return code + decimal_digits(raw[1:], length)


def _line_user(raw: bytes, hexed: str) -> str:
    return "U" + hexed


def _meta_user(raw: bytes, hexed: str) -> str:
    return decimal_digits(raw, 16)


def _naver_user(raw: bytes, hexed: str) -> str:
    return base64.urlsafe_b64encode(raw).decode()[:22]


# platform -> (16 bytes, their hex digits) -> the user's id on it; voice has none.
SNS_USER_IDS = {"web": _web_user, "whatsapp": _whatsapp_user, "line": _line_user, "instagram": _meta_user,
                "facebook-messenger": _meta_user, "navertalktalk": _naver_user}
