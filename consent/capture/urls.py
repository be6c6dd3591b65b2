from django.urls import path

from .views import api, cookie_settings, decision_endpoint, gpc_json, receipt

app_name = "consent"

urlpatterns = [
    path("cookie-settings/", cookie_settings, name="settings"),
    path("cookie-settings/receipt.json", receipt, name="receipt"),
    path("consent/", decision_endpoint, name="decide"),
    path("api/consent/", api, name="api"),
    path(".well-known/gpc.json", gpc_json, name="gpc"),
]
