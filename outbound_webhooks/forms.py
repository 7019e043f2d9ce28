from django import forms
from django.utils.translation import gettext_lazy as _

from outbound_webhooks.payloads import EVENTS


class SubscriptionForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(e, e) for e in EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )
