"""The ads section's pages by tab: Campaigns (views.py, its first page, and views_campaign.py for one
campaign), Stats and Effectiveness (views_stats.py). Mounted at /w/<slug>/ads/."""

from smmdesk.ads import views, views_campaign, views_stats

app_name = "ads"
urlpatterns = views.urlpatterns + views_campaign.urlpatterns + views_stats.urlpatterns
