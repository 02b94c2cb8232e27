"""Under /w/<slug>/: the correction sits with the inbox's message routes, the Models page in settings."""

from django.urls import path

from smmdesk.nlp import views

app_name = "nlp"
urlpatterns = [
    path("inbox/m/<int:message_id>/sentiment/", views.correct_sentiment, name="correct_sentiment"),
    path("settings/models/", views.models, name="models"),
    path("settings/models/retrain/", views.retrain, name="retrain"),
]
