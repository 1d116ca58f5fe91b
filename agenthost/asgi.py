"""The ASGI entry point: one Channels application serving the whole site.

HTTP goes to Django. SSE responses are Django async StreamingHttpResponses, which
Django cancels as soon as the client disconnects, so stream cleanup runs at once.
"""

from __future__ import annotations

import os

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agenthost.settings")

django_application = get_asgi_application()

application = ProtocolTypeRouter({"http": django_application})
