from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import path, re_path

from agenthost.api import api, api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^api(?:/.*)?$", api_not_found),
]
# Static files in development only (empty unless DEBUG); a proxy serves them in production.
urlpatterns += staticfiles_urlpatterns()
