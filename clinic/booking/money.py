"""Prices as patients read them, formatted by babel: "£60.00" (`price_text`), "£60", "£62.50" (`price_words`).

Each currency is written as its own country writes it (GBP as en_GB, EUR as en_IE, USD as en_US: "$", not
"US$"), without grouping ("£1200.00"); a currency without a symbol here is written "60.00 XYZ".
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

CURRENCY_LOCALES = {"GBP": "en_GB", "EUR": "en_IE", "USD": "en_US"}


def _format(pence: int, currency: str, digits: str) -> str:
    amount = Decimal(pence) / 100
    locale = CURRENCY_LOCALES.get(currency)
    if locale is None:
        return format_currency(amount, currency, f"0{digits} ¤¤", locale="en_GB", currency_digits=False)
    return format_currency(amount, currency, f"¤0{digits}", locale=locale, currency_digits=False)


def price_text(pence: int, currency: str) -> str:
    """£60.00, £62.50 (always the pence)."""
    return _format(pence, currency, ".00")


def price_words(pence: int, currency: str) -> str:
    """£60, £62.50 (the pence only when there are some)."""
    return _format(pence, currency, ".00" if pence % 100 else "")
