from django.contrib.auth import views as auth_views
from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="inbox/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.conversation_list, name="list"),
    path("conversations/bulk/", views.bulk_action, name="bulk"),
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation"),
    path("conversations/<int:pk>/header/", views.conversation_header, name="header"),
    path("conversations/<int:pk>/messages/", views.conversation_messages, name="messages"),
    path("conversations/<int:pk>/reply/", views.conversation_reply, name="reply"),
    path("conversations/<int:pk>/actions/", views.conversation_action, name="action"),
    path("conversations/<int:pk>/read/", views.conversation_read, name="read"),
    path("conversations/<int:pk>/undo-resolve/", views.undo_resolve, name="undo-resolve"),
    path("conversations/<int:pk>/saved-replies/", views.saved_reply_list, name="saved-replies"),
    path("attachments/<int:pk>/", views.attachment_media, name="attachment"),
    path("contacts/<int:pk>/avatar/", views.contact_avatar, name="avatar"),
    path("media/outbound/<str:token>/", views.outbound_media, name="outbound-media"),
]
