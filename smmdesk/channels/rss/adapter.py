"""RSS/Atom adapter (being built: issue 5)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from smmdesk.channels.base import Adapter, PostLimits


class RSSConfig(BaseModel):
    pass


class RSSAdapter(Adapter):
    kind = "rss"
    label = _("RSS/Atom")
    Config = RSSConfig
    capabilities = frozenset()
    limits = PostLimits(max_text=0)
