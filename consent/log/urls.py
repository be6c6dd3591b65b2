"""The log's public endpoints, under /consent-log/: C2SP paths, without trailing slashes."""

from django.urls import path

from .views import checkpoint, cosignature, key, tile

urlpatterns = [
    path("checkpoint", checkpoint, name="checkpoint"),
    path("tile/<path:path>", tile, name="tile"),
    path("key", key, name="key"),
    path("cosignature", cosignature, name="cosignature"),
]
app_name = "consent_log"
