"""`smmdesk rotate-key`: move every stored secret to the first configured encryption key, and tell the
operator where the keys are kept and when the old ones may go.

The keys are never printed: each is named by its place in the list and a short fingerprint.
"""

from __future__ import annotations

import hashlib
import os

from django.conf import settings

from smmdesk.lib import sealed

MAX_LISTED = 20


class RotationRefused(Exception):
    """Nothing was changed; `lines` tell why and what to do."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__(lines[0])


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def where_keys_live() -> str:
    # Config reads the variable first and the data dir's file only when the variable is empty.
    if os.environ.get("SMMDESK_ENCRYPTION_KEY"):
        return "SMMDESK_ENCRYPTION_KEY"
    return str(settings.DATA_DIR / "encryption_key")


def rotate() -> list[str]:
    """Re-encrypt, then return the report lines; raises RotationRefused when any secret is unreadable."""
    keys = settings.SMMDESK_ENCRYPTION_KEYS
    opener = sealed.configured_keys()
    try:
        outcome = sealed.reseal_database(opener)
    except sealed.UnreadableSecrets as exc:
        places = exc.places
        more = [f"  … and {len(places) - MAX_LISTED} more"] if len(places) > MAX_LISTED else []
        raise RotationRefused(
            [
                f"{len(places)} stored secret(s) cannot be decrypted with any of the {len(keys)} configured "
                "key(s); nothing was changed:",
                *(f"  {place}" for place in places[:MAX_LISTED]),
                *more,
                f"Add the key they were stored with to {where_keys_live()} (after the first one), or enter "
                "those channels' credentials again, then run rotate-key again.",
            ]
        )
    cache_down = None
    try:
        sealed.reseal_cache(opener, outcome)
    except Exception as exc:  # noqa: BLE001 - the database part is done and must still be reported
        cache_down = f"{exc.__class__.__name__}: {exc}"
    first = f"key 1 ({fingerprint(keys[0])})"
    lines = [
        f"re-encrypted {outcome.resealed} stored secrets under {first}; "
        f"{outcome.current} were already under it"
    ]
    if outcome.cache_resealed or outcome.cache_unreadable:
        lines.append(
            f"cached sessions and tokens: {outcome.cache_resealed} re-encrypted, "
            f"{outcome.cache_unreadable} unreadable (their channels will sign in again)"
        )
    if cache_down:
        lines.append(
            f"the cache could not be reached ({cache_down}): cached sessions and tokens stay under the old "
            "key; run rotate-key again once it answers, or their channels sign in again after the old key goes"
        )
    if len(keys) == 1:
        lines.append(f"Only one key is configured ({where_keys_live()}); every stored secret is under it.")
        lines.append("To move to a new key, run `smmdesk rotate-key --generate` for one and the steps.")
        return lines
    others = ", ".join(f"key {n} ({fingerprint(key)})" for n, key in enumerate(keys[1:], start=2))
    lines += [
        f"No stored secret needs {others} any more.",
        f"Once every smmdesk process (web, worker, mail-in) runs with {first} first, remove the other keys "
        f"from {where_keys_live()} and restart them. Run rotate-key once more just before: anything a "
        "process still on the old order wrote meanwhile is moved then, and it should report 0 re-encrypted.",
        "Backups keep the keys they were made with (keys.json), so older archives still restore.",
    ]
    return lines
