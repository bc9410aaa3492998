from django.urls import path
from django_peer.projects.views import ProjectList

urlpatterns = [
    path("api/0/organizations/<slug:org>/projects/", ProjectList.as_view()),
]
