"""Staff (admin) routes over the SP4N-LAPOR! sync: the failed and diverged syncs, and a retry.
Thin: chalicelib.services.sync_reconcile does the work."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.api.http import answer, route
from chalicelib.domain import tracking
from chalicelib.domain.errors import not_found
from chalicelib.schemas import Out
from chalicelib.services import sync_reconcile

ADMINS = ("admin",)


class SyncProblem(Out):
    tracking_id: str
    title: str
    status: str
    source: str
    updated_at: str
    kind: str = Field(description="failed (a step never reached LAPOR!) | diverged (the statuses disagree) | "
                      "privacy (raised here; LAPOR! has no call to change it: set it there by hand)")
    sp4n: dict[str, Any] = Field(description="state, complaint_id, attempts, last_error, problem, lapor_status")


class SyncProblems(Out):
    items: list[SyncProblem]


class RetryOutcome(Out):
    tracking_id: str
    repushed: int = Field(description="steps of ours sent to LAPOR! again")
    events: int = Field(description="events written from what LAPOR! showed")
    error: str | None = Field(description="why the retry stopped (the report stays listed)")
    problem: SyncProblem | None = Field(description="what is left to settle; null when in step")


@route("/staff/sync/problems", "GET", summary="Failed and diverged SP4N-LAPOR! syncs", tags=["staff"],
       auth="staff", roles=ADMINS, responses={200: SyncProblems})
def problems() -> Any:
    return answer({"items": sync_reconcile.problems()})


@route("/staff/sync/{tracking_id}/retry", "POST", summary="Retry one report's SP4N-LAPOR! sync", tags=["staff"],
       auth="staff", roles=ADMINS, responses={200: RetryOutcome}, errors=(404,))
def retry(tracking_id: str) -> Any:
    try:
        return answer(sync_reconcile.reconcile_one(tracking.normalise_tracking_id(tracking_id), force=True))
    except LookupError:
        raise not_found("No report with this tracking number.") from None
