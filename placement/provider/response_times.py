"""An operator's own response times: how fast their homes answer placement requests."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from ..access import roles_required
from ..database import get_session
from ..services import response_times as response_service
from .blueprint import bp


@bp.get("/response-times")
@roles_required("operator")
def response_times():
    figures = response_service.response_times(get_session(), provider_id=current_user.organisation_id)
    return render_template("coordinator/response_times.html", figures=figures, state=None)
