"""Search and filter forms of the list pages (GET forms: they change nothing, no CSRF token)."""
from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from ..services.paged_lists import ListFilter
from ..vocabulary import REFERRAL_STATUS_LABELS, REQUEST_STATUS_LABELS, URGENCY_LABELS, choices
from .fields import SafeBedForm


class ListSearchForm(SafeBedForm):
    """Free text, a status, an urgency and a home; each list page offers the ones it needs."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=60)])
    status = SelectField("Status", default="")
    urgency = SelectField("Urgency", choices=[("", "Any urgency")] + choices(URGENCY_LABELS), default="")
    home = SelectField("Home", default="")

    def list_filter(self) -> ListFilter:
        """The choices as a ListFilter (call after validate(): invalid choices filter nothing)."""
        if self.errors:
            return ListFilter()
        home = self._chosen("home")
        return ListFilter(text=self._chosen("q").strip(), status=self._chosen("status"), urgency=self._chosen("urgency"),
                          home_id=int(home) if home else None)

    def _chosen(self, name: str) -> str:
        """A field's value, "" when empty or when this list does not offer the field."""
        field = self._fields.get(name)
        return (field.data or "") if field is not None else ""

    def query(self) -> dict:
        """The chosen filters as URL arguments, for the pager's links."""
        return {name: field.data for name, field in self._fields.items() if field.data}


def referral_list_form(args) -> ListSearchForm:
    """The caseworker's referrals: text, status in words, urgency."""
    form = ListSearchForm(args)
    form.status.choices = [("", "Any status")] + list(REFERRAL_STATUS_LABELS.items())
    del form.home
    return form


def request_list_form(args, homes) -> ListSearchForm:
    """The operator's answered requests: text, answer, and one of the operator's `homes`."""
    form = ListSearchForm(args)
    form.status.choices = [("", "Any answer")] + [(k, v) for k, v in REQUEST_STATUS_LABELS.items() if k != "pending"]
    form.home.choices = [("", "All your homes")] + [(str(home.id), home.name) for home in homes]
    del form.urgency
    return form
