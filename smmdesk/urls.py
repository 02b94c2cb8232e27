from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from smmdesk.api import api
from smmdesk.contests.urls import public_urlpatterns as contest_public_urlpatterns
from smmdesk.core.admin_site import restrict_admin_to_owners
from smmdesk.publishing.ical import ical_urlpatterns
from smmdesk.publishing.public_media import public_media_urlpatterns

restrict_admin_to_owners(admin.site)

urlpatterns = [
    path("", include("smmdesk.core.urls")),
    path("accounts/", include("smmdesk.accounts.urls")),
    path("w/<slug:slug>/settings/", include("smmdesk.business.urls")),
    path("w/<slug:slug>/settings/channels/", include("smmdesk.channels.urls")),
    path("w/<slug:slug>/inbox/", include("smmdesk.inbox.urls")),
    path("w/<slug:slug>/publishing/", include("smmdesk.publishing.urls")),
    path("w/<slug:slug>/listening/", include("smmdesk.listening.urls")),
    path("w/<slug:slug>/contests/", include("smmdesk.contests.urls")),
    path("w/<slug:slug>/audience/", include("smmdesk.audience.urls")),
    path("w/<slug:slug>/keywords/", include("smmdesk.keywords.urls")),
    path("w/<slug:slug>/sites/", include("smmdesk.sites.urls")),
    path("w/<slug:slug>/ads/", include("smmdesk.ads.urls")),
    # The published landing pages, their sitemap and robots.txt: public, no login.
    path("site/<slug:slug>/", include("smmdesk.sites.public_urls")),
    path("w/<slug:slug>/", include("smmdesk.nlp.urls")),
    path("hooks/", include("smmdesk.inbox.webhook_views")),
    # The calendar feed's secret address carries no workspace, only its token.
    *ical_urlpatterns,
    # Signed addresses the networks fetch a post's pictures from.
    *public_media_urlpatterns,
    # A contest's proof page is public: anyone may check the draw.
    *contest_public_urlpatterns,
    path("api/", api.urls),
    path(settings.SMMDESK_ADMIN_PATH, admin.site.urls),
]

handler500 = "smmdesk.core.errors.handler500"
