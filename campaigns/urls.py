"""The campaigns pages and their REST API (included from ``parley.urls``)."""

from django.urls import path

from campaigns import api, views

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/new/", views.campaign_new, name="new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:pk>/<str:action>/", views.campaign_action, name="action"),
    # REST API v1 (public contract, issue 18).
    path("api/v1/campaigns/", api.CampaignList.as_view(), name="api-campaigns"),
    path("api/v1/campaigns/<int:pk>/", api.CampaignDetail.as_view(), name="api-campaign"),
    path(
        "api/v1/campaigns/<int:pk>/preview/",
        api.CampaignPreview.as_view(),
        name="api-campaign-preview",
    ),
    path(
        "api/v1/campaigns/<int:pk>/send/",
        api.CampaignAction.as_view(action="send"),
        name="api-campaign-send",
    ),
    path(
        "api/v1/campaigns/<int:pk>/pause/",
        api.CampaignAction.as_view(action="pause"),
        name="api-campaign-pause",
    ),
    path(
        "api/v1/campaigns/<int:pk>/resume/",
        api.CampaignAction.as_view(action="resume"),
        name="api-campaign-resume",
    ),
]
