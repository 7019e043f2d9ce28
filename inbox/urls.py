from django.contrib.auth import views as auth_views
from django.urls import path

from inbox import profile, signin, views, webapp

app_name = "inbox"

urlpatterns = [
    path("login/", signin.LoginView.as_view(), name="login"),
    path("login/code/", signin.login_code, name="login-code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/security/", signin.account_security, name="account-security"),
    path("account/security/password/", signin.password_change, name="password-change"),
    path("account/security/2fa/on/", signin.two_factor_enable, name="2fa-enable"),
    path("account/security/2fa/off/", signin.two_factor_disable, name="2fa-disable"),
    path("", views.conversation_list, name="list"),
    path("conversations/bulk/", views.bulk_action, name="bulk"),
    path("preferences/", views.workspace_preferences, name="preferences"),
    path("favicon.ico", webapp.favicon, name="favicon"),
    path("manifest.webmanifest", webapp.manifest, name="manifest"),
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation"),
    path("conversations/<int:pk>/header/", views.conversation_header, name="header"),
    path("conversations/<int:pk>/messages/", views.conversation_messages, name="messages"),
    path("conversations/<int:pk>/reply/", views.conversation_reply, name="reply"),
    path("conversations/<int:pk>/actions/", views.conversation_action, name="action"),
    path("conversations/<int:pk>/read/", views.conversation_read, name="read"),
    path("conversations/<int:pk>/undo-resolve/", views.undo_resolve, name="undo-resolve"),
    path("conversations/<int:pk>/saved-replies/", views.saved_reply_list, name="saved-replies"),
    path("profile/", profile.profile, name="profile"),
    path("profile/availability/", profile.set_availability, name="availability"),
    path("profile/language/", profile.set_language, name="language"),
    path("attachments/<int:pk>/", views.attachment_media, name="attachment"),
    path("contacts/<int:pk>/avatar/", views.contact_avatar, name="avatar"),
    path("media/outbound/<str:token>/", views.outbound_media, name="outbound-media"),
]
