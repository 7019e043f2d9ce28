from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from inbox.api import views

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", views.api_reference, name="api-reference"),
    path("api/v1/conversations/", views.ConversationList.as_view(), name="api-conversations"),
    path(
        "api/v1/conversations/<int:pk>/",
        views.ConversationDetail.as_view(),
        name="api-conversation",
    ),
    path(
        "api/v1/conversations/<int:pk>/messages/",
        views.ConversationMessages.as_view(),
        name="api-messages",
    ),
    path(
        "api/v1/conversations/<int:pk>/notes/", views.ConversationNotes.as_view(), name="api-notes"
    ),
    path("api/v1/events/", views.EventList.as_view(), name="api-events"),
    path("api/v1/labels/", views.LabelList.as_view(), name="api-labels"),
    path("api/v1/saved-replies/", views.SavedReplyList.as_view(), name="api-saved-replies"),
    path("api/v1/users/", views.UserList.as_view(), name="api-users"),
]
