"""Campaign exports: the files each platform's bulk tool imports.

`export(campaign, fmt)` returns (bytes, file name, content type) and refuses a campaign whose ads or
keywords break its platform's limits (see limits.check), naming each problem. FORMATS maps a format name
to its module and the platform it is for.
"""

from __future__ import annotations

from django.utils.text import slugify
from django.utils.translation import gettext as _

from .. import limits
from ..models import Platform
from . import direct_commander, google_ads_editor, vk_ads


class ExportError(ValueError):
    """The campaign cannot be exported in this format; the message says why."""


FORMATS = {
    "google-ads-editor": (google_ads_editor.write, Platform.GOOGLE_ADS, google_ads_editor.FILE),
    "direct-commander-xlsx": (
        direct_commander.write_xlsx,
        Platform.YANDEX_DIRECT,
        direct_commander.XLSX_FILE,
    ),
    "direct-commander-tsv": (direct_commander.write_tsv, Platform.YANDEX_DIRECT, direct_commander.TSV_FILE),
    "vk": (vk_ads.write, Platform.VK_ADS, vk_ads.FILE),
}


def formats_for(platform) -> list[str]:
    return [name for name, (_write, for_platform, _file) in FORMATS.items() if for_platform == platform]


def export(campaign, fmt) -> tuple[bytes, str, str]:
    if fmt not in FORMATS:
        raise ExportError(
            _("Unknown export format «%(fmt)s»; use one of: %(all)s.")
            % {"fmt": fmt, "all": ", ".join(FORMATS)}
        )
    write, platform, (extension, content_type) = FORMATS[fmt]
    if campaign.platform != platform:
        raise ExportError(
            _("The format «%(fmt)s» is for %(platform)s campaigns; this campaign is for %(mine)s.")
            % {"fmt": fmt, "platform": Platform(platform).label, "mine": campaign.get_platform_display()}
        )
    problems = limits.errors(limits.check(campaign))
    if problems:
        raise ExportError(
            _("The campaign breaks the platform's limits; fix these first:")
            + "\n"
            + "\n".join(map(str, problems))
        )
    name = slugify(campaign.utm_campaign or campaign.name) or f"campaign-{campaign.pk}"
    return write(campaign), f"{name}-{fmt}.{extension}", content_type
