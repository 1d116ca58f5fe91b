from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify

from apps.tenancy.services import TenantExists, tenant_create


class Command(BaseCommand):
    help = "Create a tenant and its first API key; the key is the last line of stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default=None)

    def handle(self, *args: Any, slug: str, name: str | None, **options: Any) -> None:
        if slugify(slug) != slug:
            raise CommandError(f"{slug!r} is not a slug (lowercase letters, digits, '-', '_')")
        try:
            created = tenant_create(slug=slug, name=name)
        except TenantExists as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Created tenant {created.tenant.slug} ({created.tenant.pk}).")
        self.stdout.write("API key (shown once, keep it safe):")
        self.stdout.write(created.first_key.plaintext)
