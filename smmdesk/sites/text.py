"""Words for the landing pages: addresses transliterated from the main query, and the copy templates in
the page's own language (ru, sk, en).

The copy is the visitor's language, not the member's: a page for a Russian cluster is written in Russian
whatever language the editor uses, so it is not gettext; each language has its own full template set.
"""

from __future__ import annotations

import re
import unicodedata

RU_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
SLUG_MAX = 80


def latin(text: str) -> str:
    """Cyrillic by a readable table, then any diacritics dropped ("dámsky strih" → "damsky strih")."""
    spelled = "".join(RU_LATIN.get(ch, ch) for ch in text.casefold())
    decomposed = unicodedata.normalize("NFKD", spelled)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slug_of(text: str) -> str:
    """An address made of the query's words: lower-case latin letters, digits and hyphens."""
    words = re.findall(r"[a-z0-9]+", latin(text))
    slug = "-".join(words)
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0]
    return slug or "page"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary, with no dangling punctuation."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut[:limit].rstrip(" ,.;:—–-|")


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


QUESTION_WORDS = {
    "ru": ("как", "что", "чем", "почему", "зачем", "сколько", "когда", "где", "какой", "какая", "какие",
           "какую", "можно", "нужно", "ли", "кто"),
    "sk": ("ako", "čo", "prečo", "koľko", "kedy", "kde", "aký", "aká", "aké", "kto", "môžem", "treba"),
    "en": ("how", "what", "why", "when", "where", "which", "who", "can", "should", "is", "are", "do", "does"),
}  # fmt: skip


def as_question(query: str, language: str) -> str:
    """ "как уложить короткие волосы" → "Как уложить короткие волосы?"; a query that does not ask
    (e.g. "идеи стрижек") gets a question frame in its language."""
    query = " ".join(query.split()).rstrip("?!. ")
    first = query.split(" ", 1)[0].casefold() if query else ""
    if first in QUESTION_WORDS.get(language, QUESTION_WORDS["en"]):
        return capitalized(query) + "?"
    return copy_for(language)["question_frame"].format(q=capitalized(query))


# Placeholders: {query} main query, {Query} capitalised, {business}, {city}, {service}, {price}, {duration},
# {address}. Sections are lists of paragraphs joined with blank lines.
COPY = {
    "ru": {
        "title_tail": " — {business}, {city}",
        "title_short": " — {city}",
        "description": "{Query}, {city}: {service} от {price}. {business}, {address}. Запись онлайн и по телефону.",
        "intro": (
            "{Query} — наша ежедневная работа. {business} находится в городе {city}, записаться можно "
            "онлайн, по телефону или прямо в чате на этой странице."
        ),
        "service_heading": "Услуга: {service}",
        "service": [
            "Услуга «{service}» — это консультация мастера, подбор формы под ваш тип волос и лица, "
            "мытьё и сама работа, а в конце укладка и советы по уходу дома. На всё уходит около "
            "{duration} минут, и мы не торопим клиентов.",
            "Мастера регулярно учатся и работают профессиональной косметикой. Перед началом мы обсуждаем "
            "желаемый результат, показываем примеры и честно говорим, что подойдёт именно вам. Если после "
            "визита что-то не понравится, исправим бесплатно в течение недели.",
            "Чтобы записаться, выберите удобное время, позвоните нам или напишите в чат: администратор "
            "ответит в рабочие часы, подтвердит запись и напомнит о ней накануне.",
        ],
        "prices_heading": "Цены",
        "prices": ["Цены указаны за работу мастера, материалы для стрижки и укладки уже включены."],
        "address_heading": "Как нас найти",
        "address": ["Мы находимся по адресу: {address}. Рядом есть остановки общественного транспорта и парковка."],
        "map_link": "Открыть на карте",
        "hours_heading": "Часы работы",
        "hours": ["Мы открыты без перерыва на обед. В праздничные дни часы работы могут меняться."],
        "closed": "выходной",
        "faq_heading": "Частые вопросы",
        "question_frame": "{q}: что важно знать?",
        "answer": (
            "Наши мастера ответят на этот вопрос на консультации перед услугой «{service}» и "
            "подберут решение под ваши волосы. Напишите нам в чат или позвоните, чтобы записаться."
        ),
        "price_question": "Сколько стоит {service_lower}?",
        "price_answer": "Услуга «{service}» стоит от {price}. Точную цену мастер назовёт на консультации.",
        "duration_question": "Сколько длится {service_lower}?",
        "duration_answer": "Обычно около {duration} минут, включая консультацию и укладку.",
        "home": "Главная",
        "other_pages": "Другие услуги",
        "price_from": "от",
    },
    "sk": {
        "title_tail": " — {business}, {city}",
        "title_short": " — {city}",
        "description": "{Query} v meste {city}: {service} od {price}. {business}, {address}. Objednajte sa online.",
        "intro": (
            "{Query} je naša každodenná práca. {business} nájdete v meste {city}, "
            "objednať sa môžete online, telefonicky alebo priamo v chate na tejto stránke."
        ),
        "service_heading": "Služba: {service}",
        "service": [
            "Služba {service} zahŕňa konzultáciu, výber strihu podľa typu vlasov a tváre, "
            "umytie, samotnú prácu a na záver úpravu a rady, ako sa o vlasy starať doma. Trvá približne "
            "{duration} minút a nikoho nenáhlime.",
            "Naši majstri sa pravidelne vzdelávajú a pracujú s profesionálnou kozmetikou. Pred začiatkom sa "
            "porozprávame o výsledku, ktorý si želáte, ukážeme príklady a úprimne povieme, čo vám pristane. "
            "Ak s niečím nebudete spokojní, do týždňa to bezplatne opravíme.",
            "Objednať sa môžete telefonicky alebo v chate: recepcia odpovie počas otváracích hodín, "
            "potvrdí termín a deň vopred vám ho pripomenie.",
        ],
        "prices_heading": "Cenník",
        "prices": ["Ceny sú za prácu majstra vrátane materiálu na strih a úpravu."],
        "address_heading": "Kde nás nájdete",
        "address": ["Nájdete nás na adrese {address}. Neďaleko je zastávka MHD aj parkovanie."],
        "map_link": "Otvoriť na mape",
        "hours_heading": "Otváracie hodiny",
        "hours": ["Počas sviatkov sa otváracie hodiny môžu zmeniť."],
        "closed": "zatvorené",
        "faq_heading": "Časté otázky",
        "question_frame": "{q}: čo je dobré vedieť?",
        "answer": (
            "Naši majstri vám na túto otázku odpovedia pri konzultácii pred službou {service} "
            "a nájdu riešenie pre vaše vlasy. Napíšte nám do chatu alebo zavolajte."
        ),
        "price_question": "Koľko stojí {service_lower}?",
        "price_answer": "Služba {service} stojí od {price}. Presnú cenu vám povie majster pri konzultácii.",
        "duration_question": "Ako dlho trvá {service_lower}?",
        "duration_answer": "Zvyčajne približne {duration} minút vrátane konzultácie a úpravy.",
        "home": "Domov",
        "other_pages": "Ďalšie služby",
        "price_from": "od",
    },
    "en": {
        "title_tail": " — {business}, {city}",
        "title_short": " — {city}",
        "description": "{Query} in {city}: {service} from {price}. {business}, {address}. Book online or by phone.",
        "intro": (
            "{Query} is what the team at {business} does every day. We work in {city}, and you can book "
            "online, by phone or right in the chat on this page."
        ),
        "service_heading": "The service: {service}",
        "service": [
            "{service} at {business} includes a consultation, a cut chosen for your hair type and face "
            "shape, a wash, the work itself and finally styling and advice on caring for your hair at home. "
            "It takes about {duration} minutes, and nobody is rushed.",
            "Our stylists train regularly and use professional products. Before we start we talk about the "
            "result you want, show examples and tell you honestly what will suit you. If anything is not "
            "right after your visit, we fix it free of charge within a week.",
            "To book, call us or write in the chat: the front desk answers during opening hours, confirms "
            "the appointment and reminds you the day before.",
        ],
        "prices_heading": "Prices",
        "prices": ["Prices are for the stylist's work, with the products for cutting and styling included."],
        "address_heading": "How to find us",
        "address": ["We are at {address}. Public transport stops and parking are close by."],
        "map_link": "Open on the map",
        "hours_heading": "Opening hours",
        "hours": ["On public holidays the opening hours may change."],
        "closed": "closed",
        "faq_heading": "Frequently asked questions",
        "question_frame": "{q}: what should you know?",
        "answer": (
            "The stylists at {business} answer this at the consultation before your {service_lower} and "
            "find what works for your hair. Write to us in the chat or call to book."
        ),
        "price_question": "How much does {service_lower} cost?",
        "price_answer": "{service} at {business} costs from {price}. The stylist names the exact price at the consultation.",
        "duration_question": "How long does {service_lower} take?",
        "duration_answer": "Usually about {duration} minutes, including the consultation and styling.",
        "home": "Home",
        "other_pages": "Other services",
        "price_from": "from",
    },
}  # fmt: skip

WEEKDAY_NAMES = {
    "ru": ["Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота", "Воскресенье"],
    "sk": ["Pondelok", "Utorok", "Streda", "Štvrtok", "Piatok", "Sobota", "Nedeľa"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}


def copy_for(language: str) -> dict:
    return COPY.get(language) or COPY["en"]


def weekdays_for(language: str) -> list[str]:
    return WEEKDAY_NAMES.get(language) or WEEKDAY_NAMES["en"]
