from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("cookie-settings/", views.cookie_settings, name="settings"),
]
