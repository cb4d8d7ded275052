"""Message texts in the languages each platform's users write, filled in by Faker's locales.

Faker has no chat provider, so each language has a handful of phrasings of what users ask and
what a bot answers; Faker's locale providers fill in the cities, names, companies and weekdays.
Each locale's texts are made once per process from a fixed seed: every worker makes the same.

Importing Faker and filling the pools is most of a start's cost (docs/benchmarks.md), so the
package ships them as this Faker release makes them (message_pools.json, rewritten by
`make pools`, checked against Faker by tests/data/test_messages.py). The file is used only when
the installed Faker release and every input below are the ones it was made from; otherwise
Faker makes the pools at start, as it always did.
"""

import hashlib
import json
import sys
import threading
from datetime import datetime, timezone
from functools import lru_cache
from importlib import import_module, metadata
from pathlib import Path

import orjson

from conversations_mock.data.platforms import ALL_LOCALES

SHIPPED_POOLS = Path(__file__).with_name("message_pools.json")
POOL_SIZE = 64
POOL_SEED = 9570
# Only the providers the phrases use: loading all of Faker's (its default) triples a pool's cost.
PROVIDERS = ["faker.providers.address", "faker.providers.person", "faker.providers.company",
             "faker.providers.date_time"]
# Faker's day_of_week draws a moment between 1970 and *now* (in the machine's time zone), so its
# weekdays would drift with the clock: the pools draw them up to this fixed moment instead.
POOL_NOW = datetime(2025, 3, 7, tzinfo=timezone.utc)

# {city}, {name}, {company} and {day} come from the locale's Faker providers.
PHRASES = {
    "en": (
        (
            "Best places to visit in {city}",
            "What time do you open on {day}?",
            "hello describe these images",
            "Can I change my booking for {day}?",
            "Do you deliver to {city}?",
            "describe this image pls",
            "Is {company} hiring?",
            "I need to talk to a person",
        ),
        (
            "Sure! Here are a few things to do in {city}: visit the old town, try the local food market and catch the sunset from the river.",
            "Hi {name}, we're open from 9am to 6pm on {day}. Let me know if you want to book a visit!",
            "That image shows a quiet street in {city} at dusk. If you have any questions or need more information, feel free to ask.",
            "I've passed your request to the {company} team. Someone will get back to you shortly.",
        ),
    ),
    "de": (
        (
            "Wie ist das Wetter in {city}?",
            "Habt ihr am {day} geöffnet?",
            "Kann ich meine Bestellung stornieren?",
            "Ich möchte mit einem Mitarbeiter sprechen",
        ),
        (
            "Gern! Am {day} sind wir von 9 bis 18 Uhr für Sie da.",
            "Hallo {name}, ich habe Ihre Anfrage an {company} weitergeleitet.",
            "In {city} gibt es einige schöne Orte: die Altstadt, den Markt und den Park am Fluss.",
        ),
    ),
    "fr": (
        (
            "Quels sont les horaires le {day} ?",
            "Vous livrez à {city} ?",
            "Je voudrais modifier ma réservation",
            "Est-ce que {company} recrute ?",
        ),
        (
            "Bonjour {name} ! Nous sommes ouverts de 9 h à 18 h le {day}.",
            "Oui, nous livrons à {city} en deux à trois jours ouvrés.",
            "J'ai transmis votre demande à l'équipe de {company}. Nous revenons vers vous rapidement.",
        ),
    ),
    "es": (
        (
            "¿Abren el {day}?",
            "Mejores lugares para visitar en {city}",
            "Quiero cambiar mi pedido",
            "¿{company} tiene vacantes?",
        ),
        (
            "¡Hola {name}! El {day} abrimos de 9:00 a 18:00.",
            "En {city} te recomiendo el centro histórico, el mercado y el malecón al atardecer.",
            "He enviado tu solicitud al equipo de {company}. Te responderán pronto.",
        ),
    ),
    "pt": (
        (
            "Vocês entregam em {city}?",
            "Qual o horário de {day}?",
            "Quero falar com um atendente",
            "Meu pedido ainda não chegou",
        ),
        (
            "Olá {name}! Entregamos em {city} em até 3 dias úteis.",
            "Na {day} funcionamos das 9h às 18h. Posso ajudar em mais alguma coisa?",
            "Encaminhei sua mensagem para a equipe da {company}. Logo alguém responde.",
        ),
    ),
    "id": (
        (
            "Apakah bisa kirim ke {city}?",
            "Jam buka hari {day}?",
            "Saya mau bicara dengan admin",
            "Pesanan saya belum sampai",
        ),
        (
            "Halo {name}! Pengiriman ke {city} memakan waktu 2-3 hari kerja.",
            "Hari {day} kami buka pukul 09.00 sampai 18.00.",
            "Pesan Anda sudah kami teruskan ke tim {company}.",
        ),
    ),
    "vi": (
        (
            "Shop có giao hàng đến {city} không?",
            "Thứ mấy cửa hàng mở cửa?",
            "Tôi muốn đổi đơn hàng",
            "Cho tôi gặp nhân viên tư vấn",
        ),
        (
            "Chào bạn! Chúng tôi giao hàng đến {city} trong 2-3 ngày.",
            "Cửa hàng mở cửa từ 9 giờ đến 18 giờ, {day}.",
            "Yêu cầu của bạn đã được chuyển đến {company}.",
        ),
    ),
    "th": (
        (
            "ที่เที่ยวแนะนำใน{city}",
            "วัน{day}เปิดกี่โมงครับ",
            "อยากคุยกับพนักงานค่ะ",
            "สั่งของแล้วยังไม่ได้รับเลย",
        ),
        (
            "สวัสดีค่ะคุณ{name} ร้านเปิด 9.00-18.00 น. ทุกวันค่ะ",
            "ที่{city}มีตลาดน้ำและวัดสวย ๆ หลายแห่ง แนะนำให้ไปช่วงเช้าค่ะ",
            "ส่งเรื่องให้ทีม{company}แล้วนะคะ จะติดต่อกลับโดยเร็วค่ะ",
        ),
    ),
    "ja": (
        (
            "{city}のおすすめスポットを教えて",
            "{day}は営業していますか？",
            "予約を変更したいです",
            "担当者と話したいです",
        ),
        (
            "{name}様、お問い合わせありがとうございます。{day}は10時から19時まで営業しております。",
            "{city}でしたら、駅前の商店街と公園がおすすめです。",
            "ご要望を{company}の担当者に転送しました。折り返しご連絡いたします。",
        ),
    ),
    "zh": (
        (
            "{city}有什麼好玩的地方？",
            "請問{day}有營業嗎？",
            "我想更改訂單",
            "可以轉真人客服嗎？",
        ),
        (
            "{name}您好！{day}營業時間為上午十點到晚上七點。",
            "{city}推薦老街、夜市和河濱公園，傍晚去最漂亮。",
            "已將您的問題轉給{company}的專員，稍後會與您聯繫。",
        ),
    ),
    "ko": (
        (
            "{city} 가볼 만한 곳 추천해줘",
            "{day}에도 영업하나요?",
            "예약 변경하고 싶어요",
            "상담원 연결해 주세요",
            "이 사진 설명해줘",
        ),
        (
            "안녕하세요 {name}님! {day}에는 오전 10시부터 오후 7시까지 영업합니다.",
            "{city}에서는 전통시장과 강변 공원을 추천드려요. 해 질 무렵이 가장 아름답습니다.",
            "문의하신 내용을 {company} 담당자에게 전달했습니다. 곧 연락드리겠습니다.",
        ),
    ),
}


def recipe() -> str:
    """A digest of everything the texts depend on besides Faker's release."""
    inputs = [PHRASES, POOL_SIZE, POOL_SEED, PROVIDERS, POOL_NOW.isoformat(), ALL_LOCALES]
    return hashlib.sha256(json.dumps(inputs, ensure_ascii=False).encode()).hexdigest()


def faker_release() -> str:
    """The installed Faker's version, read without importing Faker."""
    return metadata.version("faker")


def read_shipped(path: Path) -> dict:
    """{locale: (user_texts, bot_texts)} of a pools file made by this Faker release and recipe, else {}."""
    try:
        document = orjson.loads(path.read_bytes())
        if document["faker"] != faker_release() or document["recipe"] != recipe():
            return {}
        pools = {locale: (tuple(user), tuple(bot)) for locale, (user, bot) in document["pools"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, metadata.PackageNotFoundError):
        return {}  # unreadable or not ours: Faker makes the pools instead
    texts = [text for user, bot in pools.values() for text in (*user, *bot)]
    if len(texts) != 2 * POOL_SIZE * len(pools) or not all(isinstance(text, str) for text in texts):
        return {}
    return pools


def write_shipped(path: Path = SHIPPED_POOLS):
    """Make every locale's pools with Faker and write them, with what they were made from, to `path`."""
    from conversations_mock.files import write_atomically

    pools = MessagePools(shipped=None)
    document = {"faker": faker_release(), "recipe": recipe(), "pools": {loc: pools.get(loc) for loc in ALL_LOCALES}}
    write_atomically(path, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n", overwrite=True)


class MessagePools:
    """Per-locale lists of user and bot texts, made on first use and then shared.

    `shipped`: a pools file to take them from when it applies (None: always make them with Faker).
    """

    def __init__(self, size=POOL_SIZE, seed=POOL_SEED, shipped=SHIPPED_POOLS):
        self._size = size
        self._seed = seed
        self._pools = {}
        self._lock = threading.Lock()
        # The file holds the default pools only.
        self._shipped_path = shipped if (size, seed) == (POOL_SIZE, POOL_SEED) else None
        self._shipped = None

    def get(self, locale):
        """Return (user_texts, bot_texts) for a Faker locale such as 'ko_KR'."""
        pools = self._pools.get(locale)
        if pools is None:
            with self._lock:
                pools = self._pools.get(locale) or self._take_or_make(locale)
                self._pools[locale] = pools
        return pools

    def by_language(self, locales: tuple) -> tuple:
        """(user_texts, bot_texts) for each value of a language byte: those of locales[byte % len(locales)],
        so that a page builder indexes by a conversation's byte instead of reducing and calling get()."""
        return tuple(self.get(locales[byte % len(locales)]) for byte in range(256))

    def _take_or_make(self, locale):
        if self._shipped is None:
            self._shipped = read_shipped(self._shipped_path) if self._shipped_path else {}
        return self._shipped.get(locale) or self._make(locale)

    def warm(self, locales):
        """Make the pools of these locales now, e.g. before gunicorn forks its workers."""
        for locale in locales:
            self.get(locale)

    def _make(self, locale):
        from faker import Faker  # only here: a start that takes the shipped pools never imports it

        user_phrases, bot_phrases = PHRASES[locale.split("_")[0]]
        fake = Faker(locale, providers=[_localized(provider, locale) for provider in PROVIDERS])
        _pin_now(fake)
        fake.seed_instance(self._seed)

        def fill(phrases):
            return tuple(
                fake.random_element(phrases).format(
                    city=fake.city(),
                    name=fake.first_name(),
                    company=fake.company(),
                    day=fake.day_of_week(),
                )
                for _ in range(self._size)
            )

        return fill(user_phrases), fill(bot_phrases)


@lru_cache(maxsize=None)
def _locales_of(provider):
    from faker.utils.loading import list_module

    return frozenset(list_module(import_module(provider)))


def _localized(provider, locale):
    """The module of `provider` Faker would pick for `locale` (its default locale if it has none)."""
    from faker.config import DEFAULT_LOCALE

    # Faker lists a provider's locale directories once per (provider, locale): naming the locale's
    # module directly lists them once per provider.
    module = import_module(provider)
    if locale not in _locales_of(provider):
        locale = getattr(module, "default_locale", "") or DEFAULT_LOCALE
    return f"{provider}.{locale}"


def _pin_now(fake):
    """Make `fake`'s date provider draw dates up to POOL_NOW instead of the current moment."""
    from faker.providers.date_time import Provider as DateTimeProvider

    for provider in fake.get_providers():
        if isinstance(provider, DateTimeProvider):
            provider.date = _pinned(provider.date)


def _pinned(date):
    # A function of its own, so each provider's replacement calls that provider's own date().
    return lambda pattern="%Y-%m-%d", end_datetime=None: date(pattern, end_datetime or POOL_NOW)


# One set per process: every app (and test) in it shares the texts, made once, or before the fork.
SHARED_POOLS = MessagePools()

if __name__ == "__main__":  # `make pools`: after changing the phrases, or to ship another Faker release's texts
    write_shipped(Path(sys.argv[1]) if len(sys.argv) > 1 else SHIPPED_POOLS)
    print(f"wrote {sys.argv[1] if len(sys.argv) > 1 else SHIPPED_POOLS} (Faker {faker_release()})")
