"""Every value kept encrypted with lib/crypto ("sealed"), found in one place, and sealed again under the
first configured key.

Two callers: `smmdesk rotate-key` (secrets made with an older key move to the first one) and restore (the
archive's keys open them, this data dir's key seals them again). Whatever is found in the database is
re-encrypted in one transaction, and only if every value opens: one that no key opens is named and
nothing is written. A value already under the first key is left alone, so a second run changes nothing.

A model that gains an encrypted field must be listed here, or rotating the key and dropping the old one
would make that field unreadable (tests/test_rotate_key.py sweeps every text column of every model for
Fernet tokens the old key made, so a field missing here fails it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction

from smmdesk.lib import crypto

logger = logging.getLogger(__name__)

# (model label, text field holding one Fernet token or "").
SEALED_FIELDS = [("channels.Channel", "secrets"), ("contests.Contest", "sealed_seed")]
# Raw webhook deliveries keep their headers as a JSON object; the adapter's secret_headers are sealed.
RAW_EVENT = "inbox.RawEvent"
BATCH = 500
MAX_NAMED = 20


class UnreadableSecrets(Exception):
    """Sealed values that no given key opens; `places` name each as "<table> #<pk> (<field>)"."""

    def __init__(self, places: list[str]):
        self.places = places
        more = f" and {len(places) - MAX_NAMED} more" if len(places) > MAX_NAMED else ""
        super().__init__(", ".join(places[:MAX_NAMED]) + more)


@dataclass
class Outcome:
    resealed: int = 0  # values moved to the first key
    current: int = 0  # values already under it
    unreadable: list[str] = field(default_factory=list)
    cache_resealed: int = 0
    cache_unreadable: int = 0


def first_key() -> Fernet:
    return Fernet(settings.SMMDESK_ENCRYPTION_KEYS[0].encode())


def configured_keys() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.SMMDESK_ENCRYPTION_KEYS])


def reseal_database(opener: MultiFernet, *, using: str = DEFAULT_DB_ALIAS) -> Outcome:
    """Re-encrypt every sealed value in the database under the first configured key, opening them with
    `opener`. Raises UnreadableSecrets (and writes nothing) when any value cannot be opened."""
    outcome = Outcome()
    reseal = _Resealer(opener, outcome)
    with transaction.atomic(using=using):
        for label, name in SEALED_FIELDS:
            model = apps.get_model(label)
            manager = model._base_manager.using(using)
            for pk, token in _batches(manager.exclude(**{name: ""}), name):
                fresh = reseal(token, f"{model._meta.db_table} #{pk} ({name})")
                if fresh is not None:
                    # Only if unchanged meanwhile: an owner saving new credentials now must not be undone.
                    manager.filter(pk=pk, **{name: token}).update(**{name: fresh})
        _reseal_raw_events(reseal, using)
        if outcome.unreadable:
            raise UnreadableSecrets(outcome.unreadable)
    return outcome


class _Resealer:
    """token -> the same value under the first key, or None when nothing needs writing."""

    def __init__(self, opener: MultiFernet, outcome: Outcome):
        self.opener = opener
        self.first = first_key()
        self.outcome = outcome

    def __call__(self, token: str, place: str) -> str | None:
        try:
            self.first.decrypt(token.encode())
            self.outcome.current += 1
            return None
        except InvalidToken:
            pass
        try:
            plain = self.opener.decrypt(token.encode()).decode()
        except InvalidToken:
            self.outcome.unreadable.append(place)
            return None
        if self.outcome.unreadable:
            return None  # the transaction will be rolled back: no need to encrypt any more
        self.outcome.resealed += 1
        return crypto.encrypt(plain)


def _batches(queryset, *names: str):
    """(pk, *values) rows in pk order, a batch at a time: no cursor stays open on a table being updated."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page.values_list("pk", *names)[:BATCH])
        yield from rows
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def _reseal_raw_events(reseal: _Resealer, using: str) -> None:
    from smmdesk.channels import registry

    model = apps.get_model(RAW_EVENT)
    manager = model._base_manager.using(using)
    secret_by_kind = {kind: adapter.secret_headers for kind, adapter in registry.ADAPTERS.items()}
    kinds = dict(apps.get_model("channels.Channel")._base_manager.using(using).values_list("pk", "kind"))
    for pk, headers, channel_id in _batches(manager.all(), "headers", "channel_id"):
        # A kind no longer registered cannot say which headers it sealed; its deliveries cannot be
        # processed anyway.
        secret = secret_by_kind.get(kinds.get(channel_id), frozenset())
        if not secret or not isinstance(headers, dict):
            continue
        changed = dict(headers)
        for name, value in headers.items():
            if name.lower() in secret and isinstance(value, str) and value:
                fresh = reseal(value, f"{model._meta.db_table} #{pk} (header {name})")
                if fresh is not None:
                    changed[name] = fresh
        if changed != headers:
            # No compare-and-set as above: a delivery's headers are written once, when it arrives.
            manager.filter(pk=pk).update(headers=changed)


def reseal_cache(opener: MultiFernet, outcome: Outcome) -> None:
    """Values adapters keep sealed in the shared cache (a rotated token pair, a session). Outside the
    database transaction; one that cannot be opened is left for its adapter, which treats it as absent."""
    from django.core.cache import cache

    from smmdesk.channels.models import Channel

    first = first_key()
    for channel in Channel.objects.exclude(secrets="").order_by("pk"):
        if not channel.known_kind:
            continue
        try:
            keys = channel.adapter().sealed_cache_keys()
        except Exception:  # noqa: BLE001 - a channel whose config no longer validates keeps nothing cached
            logger.warning("channel %s: its cached secrets cannot be listed", channel.pk)
            continue
        for key, timeout in keys:
            blob = cache.get(key)
            if not isinstance(blob, str) or not blob:
                continue
            try:
                first.decrypt(blob.encode())
                continue
            except InvalidToken:
                pass
            try:
                plain = opener.decrypt(blob.encode()).decode()
            except InvalidToken:
                outcome.cache_unreadable += 1
                continue
            cache.set(key, crypto.encrypt(plain), timeout)
            outcome.cache_resealed += 1
