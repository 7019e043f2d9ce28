"""The contacts pages and their REST API (included from ``parley.urls``)."""

from django.urls import path

from contacts import api, views

app_name = "contacts"

urlpatterns = [
    path("contacts/", views.contact_list, name="list"),
    path("contacts/attributes/", views.attribute_definitions, name="attributes"),
    path("contacts/<int:pk>/", views.contact_detail, name="detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="edit"),
    path("contacts/<int:pk>/notes/", views.contact_note, name="note"),
    path("contacts/<int:pk>/consent/", views.contact_consent, name="consent"),
    path("contacts/<int:pk>/merge/", views.contact_merge, name="merge"),
    path("contacts/<int:pk>/unmerge/", views.contact_unmerge, name="unmerge"),
    path("contacts/<int:pk>/merges/<int:merge_id>/undo/", views.merge_undo, name="merge-undo"),
    path("contacts/<int:pk>/erase/", views.contact_erase, name="erase"),
    path("contacts/<int:pk>/export.<str:fmt>", views.contact_export, name="export"),
    path("conversations/<int:pk>/transcript.<str:fmt>", views.transcript, name="transcript"),
    # REST API v1 (public contract, issue 17).
    path("api/v1/contacts/", api.ContactList.as_view(), name="api-contacts"),
    path("api/v1/contacts/<int:pk>/", api.ContactDetail.as_view(), name="api-contact"),
    path("api/v1/contacts/<int:pk>/merge/", api.ContactMergeView.as_view(), name="api-merge"),
    path("api/v1/contacts/<int:pk>/unmerge/", api.ContactUnmergeView.as_view(), name="api-unmerge"),
    path("api/v1/contacts/<int:pk>/export/", api.ContactExport.as_view(), name="api-export"),
    path(
        "api/v1/contact-attributes/",
        api.ContactAttributeList.as_view(),
        name="api-contact-attributes",
    ),
]
