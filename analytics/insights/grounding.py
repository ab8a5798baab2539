"""Grounding: every number a summary writes must be a figure of its facts.

:func:`check` finds the numbers in a text and matches each against every
figure in the facts. The rules (README "Grounding rules"):

- **What counts as a number**: digits with optional thousands separators and
  decimals (``1,234.50``), with an optional sign, currency symbol or code in
  front (``-$5``, ``€12``, ``CA$3``, ``USD 40``) and an optional scale after
  (``1.2k``, ``3.4M``, ``2 million``, ``5 thousand``).
- **What is ignored**: dates (``2026-11-03``, ``3 Nov``, ``Nov 3``,
  ``3–9 Nov 2026``), years (a bare 1990–2100), times (``14:00``), ordinals
  (``1st``, ``3rd``; ordinal words have no digits), list numbering at the
  start of a line (``1.``), digits inside words or codes (``SKU123``,
  ``Q4``, ``5xx``), and digits inside the names the facts carry (a product
  called ``Mug 2``).
- **Matching**: a number matches a figure when they are equal after rounding
  to the number's own precision: ``$1,234`` matches 1234.50 (±0.5),
  ``12.3%`` matches 12.34, ``1.2k`` matches 1,249 (±50), and a whole number
  with two or more trailing zeros is taken as rounded to those zeros while
  keeping two significant digits (``12,000`` matches 11,500–12,500). Signs
  are ignored (``fell 5%`` matches a change of −0.05). A percentage (``%``,
  ``percent``, ``pts``, ``points``) also matches a fraction × 100, so
  ``12.3%`` matches a ratio of 0.1234 and ``1.2 pts`` a change of 0.012.
- Numbers that match nothing are **ungrounded**: listed in the result and
  flagged in the text shown (:func:`flag`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Iterator

MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_ISO_DATES = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_DATES = re.compile(
    rf"\b{_DAY}\s*[–-]\s*{_DAY}\s+{MONTHS}\b(?:\s+\d{{4}})?"            # 3–9 Nov (2026)
    rf"|\b{_DAY}\s+{MONTHS}\b(?:\s+\d{{4}})?"                          # 3 Nov (2026)
    rf"|\b{MONTHS}\s+{_DAY}\b(?:\s*[–-]\s*{_DAY}\b)?(?:,?\s+\d{{4}})?"    # Nov 3(–9)(, 2026)
    rf"|\b{MONTHS}\s+\d{{4}}\b"                                        # Nov 2026
    r"|\b\d{1,2}:\d{2}\b"                                            # 14:00
    r"|\b\d+(?:st|nd|rd|th)\b"                                       # 1st, 3rd
    r"|^\s*\d+[.)]\s",                                               # list numbering
    re.IGNORECASE | re.MULTILINE,
)
_NUMBER = re.compile(
    r"(?P<sign>[-−+])?"
    r"(?P<currency>(?:[A-Z]{2,3})?[$€£¥₹₩]|\b[A-Z]{3}\s)?"
    r"(?<![\w.,])(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<scale>\s?(?:k|K|M|bn)\b|\s(?:thousand|million|billion)\b)?"
    r"(?P<percent>\s?%|\s(?:percent|per\s?cent|percentage\s+points?|pts|points?)\b)?"
    r"(?![\w])"
)
_SCALES = {"k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000, "bn": 10 ** 9, "billion": 10 ** 9}
_YEAR = (1990, 2100)


@dataclass(frozen=True)
class Mention:
    """One number of the text: where it is, what it says, and whether a figure matches it."""

    start: int
    end: int
    text: str
    value: Decimal
    tolerance: Decimal
    percent: bool
    matched: bool


@dataclass(frozen=True)
class Grounding:
    numbers: tuple[Mention, ...] = field(default_factory=tuple)

    @property
    def ungrounded(self) -> list[str]:
        """The numbers (as written) that match no figure, in order of appearance."""
        return [m.text for m in self.numbers if not m.matched]

    @property
    def grounded(self) -> bool:
        return not self.ungrounded

    def to_doc(self) -> dict[str, Any]:
        return {"numbers_checked": len(self.numbers), "ungrounded_numbers": self.ungrounded}


def _leaves(value: Any) -> Iterator[Any]:
    """Every value of a JSON-like document that is not a dict or a list."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def figures(facts: Any) -> set[Decimal]:
    """Every number in the facts (integers and numeric strings, at any depth), as absolute values."""
    found: set[Decimal] = set()
    for value in _leaves(facts):
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float, Decimal)):
            found.add(abs(Decimal(str(value))))
        elif isinstance(value, str) and re.fullmatch(r"-?\d+(?:\.\d+)?", value):
            found.add(abs(Decimal(value)))
    return found


def labels(facts: Any) -> set[str]:
    """Every text of the facts that holds a digit and a letter (product names, models): masked before
    numbers are read, so a product called "Mug 2" is not a number."""
    return {value for value in _leaves(facts)
            if isinstance(value, str) and re.search(r"\d", value) and re.search(r"[A-Za-z]", value)}


def check(text: str, facts: Any) -> Grounding:
    """The numbers of ``text``, each matched (or not) against the figures of ``facts``."""
    known = figures(facts)
    masked = _mask(text, labels(facts))
    mentions = []
    for match in _NUMBER.finditer(masked):
        digits = match.group("digits")
        value, tolerance = _value(digits, match.group("scale"))
        percent = bool(match.group("percent"))
        if not (match.group("currency") or percent or match.group("scale") or "." in digits or "," in digits):
            if _YEAR[0] <= value <= _YEAR[1]:
                continue  # a bare year
        matched = any(abs(c - value) <= tolerance or (percent and abs(c * 100 - value) <= tolerance)
                      for c in known)
        start = match.start("currency") if match.group("currency") else match.start("digits")
        if match.group("sign") and match.start("sign") == start - 1:
            start -= 1
        end = match.end()
        mentions.append(Mention(start, end, text[start:end].strip(), value, tolerance, percent, matched))
    return Grounding(tuple(mentions))


def flag(text: str, grounding: Grounding, marker: Callable[[str], str] = lambda s: f"[{s} ⚠ unverified]") -> str:
    """``text`` with every ungrounded number wrapped by ``marker``."""
    out, last = [], 0
    for mention in grounding.numbers:
        if mention.matched:
            continue
        out.append(text[last:mention.start])
        out.append(marker(text[mention.start:mention.end]))
        last = mention.end
    out.append(text[last:])
    return "".join(out)


def _mask(text: str, names: Iterable[str]) -> str:
    """``text`` with dates and the facts' names blanked out (same length, so positions hold)."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " " * len(name))
    for pattern in (_ISO_DATES, _DATES):
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


def _value(digits: str, scale: str | None) -> tuple[Decimal, Decimal]:
    """The number and half of its precision unit (the rounding it may hide)."""
    try:
        value = Decimal(digits.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        return Decimal(0), Decimal(0)
    if "." in digits:
        unit = Decimal(1).scaleb(-len(digits.split(".")[1]))
    else:
        plain = digits.replace(",", "")
        zeros = len(plain) - len(plain.rstrip("0")) if plain.strip("0") else 0
        unit = Decimal(10) ** min(zeros, max(len(plain) - 2, 0)) if zeros >= 2 else Decimal(1)
    if scale:
        factor = _SCALES[scale.strip().lower()]
        value, unit = value * factor, unit * factor
    return value, unit / 2
