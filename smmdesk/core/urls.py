from django.urls import path

from smmdesk.core import views
from smmdesk.core.sections import BUILT, SECTIONS

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("w/<slug:slug>/", views.dashboard, name="dashboard"),
] + [
    # A section that has not landed yet answers with a plain "not built yet" page.
    path(f"w/<slug:slug>/{key}/", views.section, {"section": key}, name=f"section_{key}")
    for key, _label, _description in SECTIONS
    if key not in BUILT
]
