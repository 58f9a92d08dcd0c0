"""Text that looks like what people put in a to-do list, made from a seeded random generator.

Pools of titles, descriptions, user ids and emails are drawn once per seeding; rows pick from
them. Every value goes through the domain's ``clean_*`` rules here, so a pool that broke a
rule would fail before a single row is written.
"""

from __future__ import annotations

import random
import string
from typing import Final

from todo_core.rules import clean_description, clean_email, clean_title, clean_user_id

__all__ = ["SEARCH_WORDS", "descriptions", "emails", "titles", "user_ids"]

# (verbs, objects): each verb reads well with each object of its group.
_GROUPS: Final = (
    (
        ("Buy", "Order", "Pick up", "Return", "Get"),
        (
            "milk",
            "groceries for the week",
            "printer ink",
            "a birthday present for Sam",
            "new running shoes",
            "batteries (AA)",
            "bread and eggs",
            "dog food",
            "a charger for the laptop",
            "flowers for Mum",
            "the parcel at the post office",
            "coffee beans",
            "light bulbs for the hallway",
            "a gift card",
        ),
    ),
    (
        ("Call", "Email", "Text", "Follow up with", "Message"),
        (
            "Mum",
            "the dentist",
            "the landlord about the boiler",
            "Grace about the trip",
            "the bank",
            "the plumber",
            "the insurance company",
            "Alan re: contract",
            "the school office",
            "Dad",
            "the recruiter",
            "the accountant about the invoice",
            "Katherine",
            "the garage about the MOT",
        ),
    ),
    (
        ("Write", "Review", "Draft", "Finish", "Update", "Submit", "Proofread"),
        (
            "the quarterly report",
            "slides for Monday's meeting",
            "the project proposal",
            "meeting notes",
            "the budget spreadsheet",
            "the onboarding doc",
            "release notes",
            "the incident postmortem",
            "my performance self-review",
            "the API design doc",
            "the expense report",
            "the grant application",
            "the team newsletter",
            "PR #{n}",
            "ticket OPS-{n}",
            "the migration plan",
        ),
    ),
    (
        ("Clean", "Fix", "Organise", "Paint", "Sort out", "Tidy", "Declutter"),
        (
            "the kitchen",
            "the garage",
            "the leaky tap",
            "the bathroom shelf",
            "the wardrobe",
            "the bike's brakes",
            "the garden shed",
            "the fridge",
            "the hallway",
            "the desk drawers",
            "the gutters",
            "the spare room",
            "the balcony",
        ),
    ),
    (
        ("Pay", "Renew", "Cancel", "Book", "Schedule", "Check"),
        (
            "the electricity bill",
            "car insurance",
            "my passport",
            "the gym membership",
            "a haircut",
            "the dentist appointment",
            "the vet for Luna",
            "train tickets to Leeds",
            "the council tax",
            "the streaming subscription",
            "a table for Friday",
            "the annual check-up",
            "the invoice #{n}",
            "flights for the summer",
            "the car service",
        ),
    ),
    (
        ("Read", "Practise", "Watch", "Finish", "Start"),
        (
            "chapter {k} of the book club novel",
            "Spanish vocabulary",
            "the Rust book",
            "guitar scales",
            "the Postgres talk from the conference",
            "the online course, module {k}",
            "piano for 20 minutes",
            "the documentary Grace recommended",
            "the paper on consensus",
            "yoga routine",
        ),
    ),
)
_QUALIFIERS: Final = (
    "before Friday",
    "this weekend",
    "tomorrow morning",
    "by the end of the month",
    "(urgent)",
    "again",
    "for the offsite",
    "after lunch",
    "if there is time",
    "on the way home",
    "before the holidays",
    "- ask Ada first",
    "ASAP",
    "next week",
    "for Q{q}",
    "before {d} {m}",
)
# Not everyone writes in English.
_OTHER_LANGUAGES: Final = (
    "Réserver le restaurant pour samedi",
    "Geburtstagsgeschenk für Oma kaufen",
    "Llamar al fontanero",
    "買い物リストを作る",
    "Позвонить маме",
    "Prenotare il treno per Milano",
    "Zoë's verjaardag plannen",
    "Pagar a conta da luz",
    "Kúpiť lístky do divadla",
    "Αγορά δώρου για τη Μαρία",  # noqa: RUF001 (Greek, on purpose)
    "Café com a Inês às 10h",
)
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SENTENCES: Final = (
    "Remember to bring the receipt.",
    "Ask for the invoice number.",
    "Grace said Thursday works best.",
    "Check the shared drive for the latest version.",
    "The last one was too expensive, compare prices first.",
    "Needs sign-off from the team lead.",
    "Keep it short: one page at most.",
    "Reference number is {n}.",
    "Don't forget the attachments this time.",
    "Opening hours are 9-17 on weekdays.",
    "Ada has the spare key.",
    "Last time this took about two hours.",
    "Use the blue folder.",
    "Blocked until the supplier replies.",
    "See the thread from last week for context.",
    "Budget is around {n} EUR.",
    "Write down what they say.",
    "Bring the insurance card and ID.",
    "Cancel if it rains.",
    "Check whether the warranty still covers it.",
    "Parking is behind the building.",
    "They prefer email over phone calls.",
    "Double-check the dates before paying.",
)
_LIST_ITEMS: Final = (
    "milk",
    "eggs",
    "bread",
    "tomatoes",
    "olive oil",
    "rice",
    "coffee",
    "apples",
    "cheese",
    "pasta",
    "washing-up liquid",
    "bin bags",
    "spinach",
    "yoghurt",
    "chocolate",
    "onions",
    "garlic",
    "lemons",
)
_FIRST_NAMES: Final = (
    "ada",
    "grace",
    "alan",
    "katherine",
    "linus",
    "barbara",
    "edsger",
    "margaret",
    "donald",
    "frances",
    "john",
    "radia",
    "ken",
    "dennis",
    "hedy",
    "tim",
    "sophie",
    "guido",
    "anita",
    "leslie",
    "joan",
    "niklaus",
    "zoe",
    "ines",
    "mateo",
    "yuki",
    "priya",
    "omar",
    "lena",
    "jonas",
    "chloe",
    "amara",
    "noah",
    "mila",
)
_LAST_NAMES: Final = (
    "lovelace",
    "hopper",
    "turing",
    "johnson",
    "torvalds",
    "liskov",
    "dijkstra",
    "hamilton",
    "knuth",
    "allen",
    "mccarthy",
    "perlman",
    "thompson",
    "ritchie",
    "lamarr",
    "berners-lee",
    "wilson",
    "van-rossum",
    "borg",
    "lamport",
    "clarke",
    "wirth",
    "martin",
    "silva",
    "garcia",
    "tanaka",
    "sharma",
    "haddad",
    "novak",
    "weber",
)
_DOMAINS: Final = ("example.com", "example.org", "example.net", "mail.example.com", "corp.example.co.uk")
_ID_ALPHABET: Final = string.ascii_letters + string.digits

SEARCH_WORDS: Final = ("report", "dentist", "invoice", "milk", "passport", "slides", "garage", "insurance")
"""Words the load scripts search for (``q=``): each occurs in the pools, some often, some rarely."""


def titles(rng: random.Random, count: int) -> list[str]:
    """``count`` task titles, mostly short, a few long, some not in English."""
    pool: list[str] = []
    while len(pool) < count:
        roll = rng.random()
        if roll < 0.03:
            title = rng.choice(_OTHER_LANGUAGES)
        else:
            verbs, objects = rng.choice(_GROUPS)
            title = f"{rng.choice(verbs)} {_fill(rng, rng.choice(objects))}"
            if roll < 0.35:
                title = f"{title} {_fill(rng, rng.choice(_QUALIFIERS))}"
            elif roll > 0.98:  # the odd title that is a whole sentence
                title = f"{title}: {' '.join(_fill(rng, rng.choice(_SENTENCES)) for _ in range(rng.randint(2, 5)))}"
        pool.append(clean_title(title[:255].strip()))
    return pool


def descriptions(rng: random.Random, count: int) -> list[str]:
    """``count`` descriptions: a sentence or a few, shopping lists, paragraphs, the odd long note."""
    pool: list[str] = []
    while len(pool) < count:
        roll = rng.random()
        if roll < 0.15:
            items = rng.sample(_LIST_ITEMS, rng.randint(3, 9))
            text = "\n".join(f"- {item}" for item in items)
        elif roll < 0.9:
            text = " ".join(_fill(rng, rng.choice(_SENTENCES)) for _ in range(rng.randint(1, 4)))
        else:
            paragraphs = rng.randint(2, 12)
            text = "\n\n".join(
                " ".join(_fill(rng, rng.choice(_SENTENCES)) for _ in range(rng.randint(3, 8)))
                for _ in range(paragraphs)
            )
        if rng.random() < 0.05:
            text += f"\nhttps://tickets.example.com/browse/OPS-{rng.randint(100, 9999)}"
        description = clean_description(text[:10_000])
        assert description is not None
        pool.append(description)
    return pool


def user_ids(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct ids shaped like an identity provider's: 32 letters and digits."""
    seen: set[str] = set()
    ids: list[str] = []
    while len(ids) < count:
        candidate = "".join(rng.choices(_ID_ALPHABET, k=32))
        if candidate not in seen:
            seen.add(candidate)
            ids.append(clean_user_id(candidate))
    return ids


def emails(rng: random.Random, count: int, *, missing: float = 0.03) -> list[str | None]:
    """``count`` addresses, distinct case-insensitively (each carries its position); some users have none."""
    addresses: list[str | None] = []
    for position in range(count):
        if rng.random() < missing:
            addresses.append(None)
            continue
        local = f"{rng.choice(_FIRST_NAMES)}.{rng.choice(_LAST_NAMES)}{position}"
        if rng.random() < 0.1:
            local = local.title()  # people type their address as they like; it still compares equal
        addresses.append(clean_email(f"{local}@{rng.choice(_DOMAINS)}"))
    return addresses


def _fill(rng: random.Random, template: str) -> str:
    if "{" not in template:
        return template
    return template.format(
        n=rng.randint(100, 99_999),
        k=rng.randint(1, 12),
        q=rng.randint(1, 4),
        d=rng.randint(1, 28),
        m=rng.choice(_MONTHS),
    )
