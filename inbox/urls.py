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
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation"),
    path("conversations/<int:pk>/messages/", views.conversation_messages, name="messages"),
    path("conversations/<int:pk>/reply/", views.conversation_reply, name="reply"),
]
