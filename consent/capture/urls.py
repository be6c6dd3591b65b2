from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("cookie-settings/", views.cookie_settings, name="settings"),
    path("cookie-settings/receipt.json", views.receipt, name="receipt"),
    path("consent/", views.decision_endpoint, name="decide"),
    path("api/consent/", views.api, name="api"),
    path(".well-known/gpc.json", views.gpc_json, name="gpc"),
]
