from django.urls import path

from smmdesk.channels import views

# Included at w/<slug:slug>/settings/channels/.
app_name = "channels"
urlpatterns = [
    path("", views.channel_list, name="list"),
    path("add/", views.add, name="add"),
    path("add/<str:kind>/", views.add_kind, name="add_kind"),
    path("<int:pk>/", views.edit, name="edit"),
    path("<int:pk>/check/", views.check, name="check"),
    path("<int:pk>/toggle/", views.toggle, name="toggle"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]
