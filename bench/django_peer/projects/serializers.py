from django_peer.projects.models import Project
from rest_framework import serializers


class ProjectSerializer(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Project
        fields = ["id", "slug", "name", "organization", "created_at"]
