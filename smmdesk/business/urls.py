from django.urls import path

from smmdesk.business import views

app_name = "business"
urlpatterns = [
    path("", views.profile, name="profile"),
    path("hours/", views.hours, name="hours"),
    path("hours/exceptions/", views.holiday_add, name="holiday_add"),
    path("hours/exceptions/<int:pk>/delete/", views.holiday_delete, name="holiday_delete"),
    path("services/", views.services, name="services"),
    path("services/<int:pk>/", views.service_edit, name="service_edit"),
    path("services/<int:pk>/delete/", views.service_delete, name="service_delete"),
    path("departments/", views.departments, name="departments"),
    path("departments/<int:pk>/", views.department_edit, name="department_edit"),
    path("departments/<int:pk>/delete/", views.department_delete, name="department_delete"),
]
