"""Bootstrap one of the three platform administrators (三员分立) and print a one-time password."""

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from baosong.orgs import workflow
from baosong.orgs.models import PlatformRole


class Command(BaseCommand):
    help = "Create a platform administrator (system_admin, security_admin or audit_admin)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("login")
        parser.add_argument(
            "--role",
            required=True,
            choices=[r for r in PlatformRole.values if r],
        )
        parser.add_argument("--name", required=True, help="real name, e.g. 王安全")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            person = workflow.create_person(
                by=None, username=options["login"], real_name=options["name"]
            )
            workflow.set_platform_role(by=None, person=person, platform_role=options["role"])
            temporary = workflow.reset_password(by=None, person=person)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{person.username} {options['role']} {temporary}")
