from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.tenancy.demo import demo_bootstrap


class Command(BaseCommand):
    help = (
        "Create the demo tenant, its superuser and an API key if missing (idempotent) and "
        "print the login and key; they are kept in the state directory, mode 0600."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        credentials = demo_bootstrap(state_file=settings.STATE_DIR / "demo.json")
        self.stdout.write(f"  tenant: {credentials.tenant_slug}")
        self.stdout.write(f"  login:  {credentials.username} / {credentials.password}")
        self.stdout.write(f"  key:    {credentials.api_key}")
