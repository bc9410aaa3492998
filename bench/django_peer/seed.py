"""Create the schema and the benchmark's data; prints the owner's token."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_peer.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django_peer.projects.models import Membership, Organization, Project  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402


def main(slug: str, projects: int) -> None:
    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("owner", "owner@bench.example", "not a secret")
    organization = Organization.objects.create(slug=slug, name="Bench")
    Membership.objects.create(organization=organization, user=owner, role="owner")
    for index in range(projects):
        Project.objects.create(organization=organization, slug=f"p{index}", name=f"Project {index}")
    print(Token.objects.create(user=owner).key)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
