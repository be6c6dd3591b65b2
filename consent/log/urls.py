"""The log's public endpoints, under /consent-log/: C2SP paths, without trailing slashes."""

from django.urls import path

from . import views

app_name = "consent_log"

urlpatterns = [
    path("checkpoint", views.checkpoint, name="checkpoint"),
    path("tile/<path:path>", views.tile, name="tile"),
    path("key", views.key, name="key"),
    path("cosignature", views.cosignature, name="cosignature"),
]
