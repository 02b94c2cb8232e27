"""The product's sections in navigation order. Sections whose issue has not landed show a plain notice."""

from django.utils.translation import gettext_lazy as _

SECTIONS = [
    (
        "inbox",
        _("Inbox"),
        _(
            "Every comment, direct message, mention, e-mail and site chat in one place, "
            "triaged, answered within the SLA and handed to the right department."
        ),
    ),
    (
        # The key is the section's address: /w/<slug>/publishing/ (the calendar is its first page).
        "publishing",
        _("Calendar"),
        _(
            "Plan posts for every network, get them approved and published exactly "
            "once, then see their metrics."
        ),
    ),
    (
        "listening",
        _("Listening"),
        _("Find every mention of the business, raise complaints at once and turn trends into posts."),
    ),
    ("contests", _("Contests"), _("Giveaways in groups and channels, with winners anyone can verify.")),
    ("audience", _("Audience"), _("Who the customers are for each service, from the business's orders.")),
    ("keywords", _("Keywords"), _("Direct and indirect search queries for each service and district.")),
    ("sites", _("Sites"), _("One landing page per key query, checked for SEO, with a sitemap.")),
    (
        "ads",
        _("Ads"),
        _("Targeting and contextual campaigns, exported to the ad platforms and measured back to orders."),
    ),
]
# Sections with a working app register their URL name here as they land.
BUILT: dict[str, str] = {
    "inbox": "inbox:list",
    "publishing": "publishing:calendar",
    "listening": "listening:stream",
    "contests": "contests:list",
    "audience": "audience:report",
    "keywords": "keywords:list",
    "sites": "sites:list",
    "ads": "ads:list",
}
