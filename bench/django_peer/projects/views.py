from django.shortcuts import get_object_or_404
from django_peer.projects.models import Organization, Project
from django_peer.projects.serializers import ProjectSerializer
from rest_framework import generics


class ProjectList(generics.ListAPIView):
    """The organization's projects, for its members only (others get 404, as in Tokenward)."""

    serializer_class = ProjectSerializer

    def get_queryset(self):
        organization = get_object_or_404(
            Organization, slug=self.kwargs["org"], members=self.request.user
        )
        return (
            Project.objects.filter(organization=organization)
            .select_related("organization")
            .order_by("id")
        )
