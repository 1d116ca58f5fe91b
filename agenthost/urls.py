from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from agenthost.api import api, api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # Exempt, or a POST to an unknown /api path would get CSRF's HTML 403, not a JSON 404.
    re_path(r"^api(?:/.*)?$", csrf_exempt(api_not_found)),
]
# Static files in development only (empty unless DEBUG); a proxy serves them in production.
urlpatterns += staticfiles_urlpatterns()
