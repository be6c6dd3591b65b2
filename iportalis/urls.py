from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from . import views

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain; charset=utf-8"),
    ),
    # Pages name the SVG icon; this answers browsers (and the admin's pages) that ask by habit.
    path("favicon.ico", views.favicon),
    path("demo/cookies/", views.cookie_demo, name="cookie-demo"),
    path("cookie-policy/", include("policy.urls")),
    path("", include("consent.capture.urls")),
    path("audit/", include("consent.audit.urls")),
    path("consent-log/", include("consent.log.urls")),
    path("admin/", admin.site.urls),
]
