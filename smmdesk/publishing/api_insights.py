"""Publishing's figures and bulk work over the HTTP API: best times, performance (and its CSV), and the
plan import (preview, import, template). The operations live on their own router beside api.py's and are
registered with it in smmdesk/api.py; refusals follow the same rules (422 naming the field; import
errors name `rows.<row>.<column>`).
"""

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from smmdesk.api import InvalidOut, requires
from smmdesk.publishing import besttime, importer, reports, scheduling, workflow
from smmdesk.publishing.api import day_period, invalid_input, refusal
from smmdesk.publishing.api_schemas import (
    BestTimesOut,
    ImportDone,
    ImportIn,
    PerformanceOut,
    PerformancePeriodIn,
    PlanOut,
)

router = Router(tags=["publishing"])


# --- best times and performance --------------------------------------------------------------------------


@router.get("/w/{slug}/publishing/best-times", response=list[BestTimesOut])
@requires("publishing.view")
def best_times(request, slug: str):
    """Per channel that can publish: the three best weekday-and-hour slots (business time zone) from
    past engagement, or the network's defaults (`source: "default"`) while there is too little data.
    `next_at` is each slot's next occurrence. The method is in docs/publishing.md."""
    now = timezone.now()
    zone = scheduling.workspace_zone(request.workspace)
    return [
        {
            **{k: getattr(s, k) for k in ("channel_id", "channel", "source", "measure", "posts", "mean")},
            "slots": [
                {
                    "weekday": slot.weekday,
                    "hour": slot.hour,
                    "score": slot.score,
                    "posts": slot.posts,
                    "next_at": besttime.next_time(slot, zone, now),
                }
                for slot in s.slots
            ],
        }
        for s in besttime.suggest_all(request.workspace, now)
    ]


def _performance(request, period: PerformancePeriodIn):
    found, errors = day_period(request.workspace, period.start, period.end, 30, reports.MAX_DAYS)
    if errors:
        return None, invalid_input(*errors)
    return reports.performance(
        request.workspace, *found, channel=period.channel, campaign=period.campaign
    ), None


@router.get("/w/{slug}/publishing/performance", response={200: PerformanceOut, 422: InvalidOut})
@requires("publishing.view")
def performance(request, slug: str, period: Query[PerformancePeriodIn]):
    """Published variants from `start` to `end` (default the last 30 days) with reach, likes, comments,
    shares and engagement rate = (likes + comments + shares) / reach (null where the network reports
    no reach); the totals, the top posts by rate, and a day-by-day series."""
    data, refused = _performance(request, period)
    return refused or data


@router.get("/w/{slug}/publishing/performance.csv", response={200: None, 422: InvalidOut})
@requires("publishing.view")
def performance_csv(request, slug: str, period: Query[PerformancePeriodIn]):
    """The performance table as CSV (times in the business's time zone)."""
    data, refused = _performance(request, period)
    if refused:
        return refused
    response = HttpResponse(
        reports.performance_csv(request.workspace, data), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{request.workspace.slug}-performance.csv"'
    return response


# --- plan import -----------------------------------------------------------------------------------------


def _row_errors(errors: list[importer.RowError]) -> list[tuple[str, str]]:
    return [("file" if e.row == 0 else f"rows.{e.row}.{e.column}", e.message) for e in errors]


@router.post("/w/{slug}/publishing/imports/preview", response={200: PlanOut, 422: InvalidOut})
@requires("publishing.draft")
def preview_import(request, slug: str, payload: ImportIn):
    """Check a plan CSV (columns date, time, channels, text, media_url) row by row; nothing is created.
    Import it with the `digest` this returns."""
    if payload.csv is None:
        return invalid_input(("csv", "required: the CSV file's text"))
    plan = importer.read_plan(request.workspace, payload.csv)
    return {
        "digest": plan.digest,
        "zone": plan.zone.key,
        "good": len(plan.good),
        "bad": len(plan.bad),
        "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in plan.errors],
        "rows": [
            {
                "row": row.row,
                "ok": row.ok,
                "at": row.when,
                "channels": [c.name for c in row.channels],
                "text": row.text,
                "media_url": row.media_url,
            }
            for row in plan.rows
        ],
    }


@router.post("/w/{slug}/publishing/imports", response={201: ImportDone, 409: InvalidOut, 422: InvalidOut})
@requires("publishing.draft")
def run_import(request, slug: str, payload: ImportIn):
    """Create the previewed plan: `confirm` is the preview's digest. A file with errors creates nothing
    unless `skip_bad` is true, which creates the good rows only. Errors name `rows.<row>.<column>`."""
    if payload.csv is None:
        return invalid_input(("csv", "required: the CSV file's text"))
    try:
        done = importer.import_plan(
            request.membership,
            payload.csv,
            confirm=payload.confirm or "",
            skip_bad=payload.skip_bad,
            as_drafts=payload.as_drafts,
        )
    except importer.PlanRefused as refused:
        return invalid_input(*_row_errors(refused.errors))
    except workflow.PublishingError as error:
        return refusal(error)
    return Status(
        201,
        {
            "created": len(done.posts),
            "scheduled": done.scheduled,
            "drafts": done.drafts,
            "skipped_rows": done.skipped,
            "post_ids": [post.pk for post in done.posts],
        },
    )


@router.get("/w/{slug}/publishing/imports/template.csv", response={200: None})
@requires("publishing.draft")
def import_template(request, slug: str):
    """A plan CSV to fill in, naming this workspace's channels."""
    response = HttpResponse(importer.template_csv(request.workspace), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="publishing-plan.csv"'
    return response
