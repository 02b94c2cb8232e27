"""The audience section over the HTTP API: orders (list, quick entry, delete), the order import (upload,
mapping with its preview, run, progress, errors), the report with its CSV and XLSX exports, the service
names found in orders (and mapping them), segments with their size and targeting, and "who to target".

Role checks are the pages' ("audience.view" to read, "audience.manage" to change). Refused input is a
422 naming the field, in the same words as on the pages; an import that is no longer waiting for its
mapping is a 409; another workspace's id is a 404.
"""

from datetime import timedelta

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Query, Router, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from smmdesk.api import InvalidOut, requires
from smmdesk.audience import actions, imports
from smmdesk.audience.api_schemas import (
    AudiencePeriodIn,
    AudienceReportOut,
    JobOut,
    JobSummaryOut,
    MappingIn,
    MapServiceIn,
    MapServiceOut,
    OrderIn,
    OrderOut,
    OrderPage,
    OrdersIn,
    ProgressOut,
    SegmentIn,
    SegmentOut,
    SegmentSuggestionOut,
    UnknownServiceOut,
)
from smmdesk.audience.forms import PeriodForm, today_for
from smmdesk.audience.models import ImportJob, Order, Segment
from smmdesk.audience.report import number
from smmdesk.business.models import Service

router = Router(tags=["audience"])

VIEW, MANAGE = "audience.view", "audience.manage"
DEFAULT_DAYS = 90


# --- helpers -------------------------------------------------------------------------------------------


def invalid(*errors: tuple[str, str], status: int = 422, detail: str = "invalid input"):
    return Status(status, {"detail": detail, "errors": [{"field": f, "message": str(m)} for f, m in errors]})


def refusal(error: Exception, subject: str = "body"):
    """A refused use case as an answer: 403 for the role, 422 naming the input, 409 for a job's state."""
    if isinstance(error, actions.NotAllowed | imports.NotAllowed):
        raise HttpError(403, str(error.message))
    errors = getattr(error, "errors", None)
    if errors:
        return invalid(*errors)
    return invalid((getattr(error, "field", None) or subject, getattr(error, "message", str(error))))


def _money(value) -> float | None:
    return None if value is None else number(value)


def _order_out(order: Order) -> dict:
    names = ("id", "order_id", "date", "service_id", "service_name", "client_id", "gender", "age")
    names += ("birth_year", "district", "source", "utm_campaign", "import_job_id", "created_at")
    return {
        **{name: getattr(order, name) for name in names},
        "service": order.service.name if order.service_id else order.service_name,
        "price": _money(order.price),
    }


JOB_FIELDS = (
    *("id", "file_name", "file_format", "encoding", "delimiter", "status", "total_rows", "processed_rows"),
    *("created", "updated", "unchanged", "error_count", "created_at", "started_at", "finished_at"),
)


def _job_summary(job: ImportJob) -> dict:
    return {name: getattr(job, name) for name in JOB_FIELDS}


def _job_out(job: ImportJob) -> dict:
    preview = []
    if job.status == ImportJob.Status.UPLOADED:
        try:
            preview = imports.preview(job)
        except imports.ImportRefused:
            preview = []  # the file no longer reads; running it says why
    errors = job.errors if isinstance(job.errors, list) else []
    return {
        **_job_summary(job),
        "headers": [str(h) for h in job.headers] if isinstance(job.headers, list) else [],
        "mapping": job.mapping if isinstance(job.mapping, dict) else {},
        "fields": [{"name": n, "label": str(label), "required": r} for n, label, r in imports.FIELDS],
        "preview": preview,
        "errors": [
            {
                "row": e.get("row"),
                "field": e.get("field"),
                "value": str(e.get("value") or ""),
                "message": str(e.get("message") or ""),
            }
            for e in errors
        ],
        "unknown_services": job.unknown_services if isinstance(job.unknown_services, dict) else {},
    }


def _report_out(data: dict) -> dict:
    return {
        **data,
        "total_revenue": number(data["total_revenue"]),
        "previous": {**data["previous"], "total_revenue": number(data["previous"]["total_revenue"])},
        "services": [{**row, "revenue": number(row["revenue"])} for row in data["services"]],
    }


def _segment_out(segment: Segment) -> dict:
    size = actions.segment_size(segment)
    targeting = actions.targeting_for(segment)
    return {
        **{
            name: getattr(segment, name)
            for name in ("id", "name", "gender", "age_min", "age_max", "created_at")
        },
        "services": [{"id": s.pk, "name": s.name} for s in segment.services.all()],
        "districts": [str(d) for d in segment.districts] if isinstance(segment.districts, list) else [],
        "size": {**size, "revenue": number(size["revenue"])},
        "targeting": {
            **{name: getattr(targeting, name) for name in ("city", "gender", "age_min", "age_max")},
            "districts": list(targeting.districts),
            "services": list(targeting.services),
            "interests": list(targeting.interests),
        },
    }


def _period(request, period: AudiencePeriodIn):
    """(start, end) of the asked period, or the refusal: the page's rules, the page's words."""
    end = period.end or today_for(request.workspace)
    start = period.start or end - timedelta(days=DEFAULT_DAYS - 1)
    form = PeriodForm({"period": "custom", "start": start, "end": end}, workspace=request.workspace)
    if not form.is_valid():
        errors = [(field, " ".join(messages)) for field, messages in form.errors.items()]
        return None, invalid(*errors)
    return form.bounds(), None


# --- orders --------------------------------------------------------------------------------------------


@router.get("/w/{slug}/audience/orders", response={200: OrderPage})
@requires(VIEW)
def list_orders(request, slug: str, filters: Query[OrdersIn]):
    """Orders, newest first; `start` and `end` keep those dated within them."""
    orders = Order.objects.filter(workspace=request.workspace).select_related("service")
    if filters.start:
        orders = orders.filter(date__gte=filters.start)
    if filters.end:
        orders = orders.filter(date__lte=filters.end)
    page = orders[filters.offset : filters.offset + filters.limit]
    return {
        "count": orders.count(),
        "offset": filters.offset,
        "limit": filters.limit,
        "items": [_order_out(order) for order in page],
    }


@router.post("/w/{slug}/audience/orders", response={201: OrderOut, 422: InvalidOut})
@requires(MANAGE)
def create_order(request, slug: str, payload: OrderIn):
    """Quick entry of one order, checked as an imported row is; an order id already recorded is a 422."""
    data = {name: value for name, value in payload.model_dump().items() if value is not None}
    try:
        order = actions.add_order(request.membership, data)
    except actions.AudienceError as error:
        return refusal(error)
    return Status(201, _order_out(Order.objects.select_related("service").get(pk=order.pk)))


@router.delete("/w/{slug}/audience/orders/{order_id}", response={204: None, 422: InvalidOut})
@requires(MANAGE)
def delete_order(request, slug: str, order_id: int):
    """`order_id` is smmdesk's id of the order (`id` in the list), not the business's order number."""
    order = get_object_or_404(Order, pk=order_id, workspace=request.workspace)
    try:
        actions.delete_order(request.membership, order)
    except actions.AudienceError as error:
        return refusal(error)
    return Status(204, None)


# --- import --------------------------------------------------------------------------------------------


def _job(request, job_id: int) -> ImportJob:
    return get_object_or_404(ImportJob, pk=job_id, workspace=request.workspace)


@router.get("/w/{slug}/audience/imports", response=list[JobSummaryOut])
@requires(VIEW)
def list_imports(request, slug: str):
    """The last 100 imports, newest first."""
    return [_job_summary(job) for job in ImportJob.objects.filter(workspace=request.workspace)[:100]]


@router.post("/w/{slug}/audience/imports", response={201: JobOut, 422: InvalidOut})
@requires(MANAGE)
def upload_import(request, slug: str, file: File[UploadedFile] = None):
    """Upload a CSV or XLSX file (multipart, field `file`). Its format, encoding, separator and headers
    are read and the columns are guessed; check `mapping` and `preview`, change the mapping if needed,
    then run it."""
    # Optional for ninja, so that the role is checked before a missing file is refused.
    if file is None:
        return invalid(("file", "required: a CSV or XLSX file sent as multipart form data"))
    try:
        job = imports.start_import(request.membership, file)
    except imports.ImportRefused as error:
        return refusal(error, "file")
    return Status(201, _job_out(job))


@router.get("/w/{slug}/audience/imports/{job_id}", response=JobOut)
@requires(VIEW)
def get_import(request, slug: str, job_id: int):
    return _job_out(_job(request, job_id))


@router.put(
    "/w/{slug}/audience/imports/{job_id}/mapping", response={200: JobOut, 409: InvalidOut, 422: InvalidOut}
)
@requires(MANAGE)
def set_import_mapping(request, slug: str, job_id: int, payload: MappingIn):
    """Choose the file's column for each field: the whole mapping (fields left out are not in the file).
    Errors name the field: a required one without a column, a column that does not exist or is taken
    twice."""
    job = _job(request, job_id)
    if job.status != ImportJob.Status.UPLOADED:
        return invalid(("job", "the import has already started"), status=409, detail="not possible now")
    try:
        job = imports.set_mapping(request.membership, job, payload.mapping or {})
    except imports.ImportRefused as error:
        return refusal(error, "mapping")
    return _job_out(job)


@router.post("/w/{slug}/audience/imports/{job_id}/run", response={202: JobOut, 422: InvalidOut})
@requires(MANAGE)
def run_import(request, slug: str, job_id: int):
    """Queue the import; a job already queued, running or finished is answered as it is. Follow it with
    …/progress; a file with any bad row ends "failed" with nothing imported and `errors` listing them."""
    job = _job(request, job_id)
    try:
        job = imports.run_import(request.membership, job)
    except imports.ImportRefused as error:
        return refusal(error, "mapping")
    return Status(202, _job_out(job))


@router.get("/w/{slug}/audience/imports/{job_id}/progress", response=ProgressOut)
@requires(VIEW)
def import_progress(request, slug: str, job_id: int):
    """Rows checked so far while the job waits or runs; 100 % once it is done or failed."""
    return imports.progress(_job(request, job_id))


@router.get("/w/{slug}/audience/imports/{job_id}/errors.csv", response={200: None})
@requires(VIEW)
def import_errors(request, slug: str, job_id: int):
    """The refused file's bad rows as CSV: row, field, value, message."""
    job = _job(request, job_id)
    response = HttpResponse(imports.error_report_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


# --- the report ----------------------------------------------------------------------------------------


@router.get("/w/{slug}/audience/report", response={200: AudienceReportOut, 422: InvalidOut})
@requires(VIEW)
def audience_report(request, slug: str, period: Query[AudiencePeriodIn]):
    """Per service: orders, share, revenue and its share, the previous period of the same length and
    the change, gender, age groups, districts and sources (shares of the service's orders); the same
    for all orders. Default period: the last 90 days."""
    bounds, refused = _period(request, period)
    return refused or _report_out(actions.report(request.workspace, *bounds))


def _export(request, period: AudiencePeriodIn, kind: str):
    bounds, refused = _period(request, period)
    if refused:
        return refused
    data = actions.report(request.workspace, *bounds)
    start, end = bounds
    if kind == "csv":
        response = HttpResponse(actions.export_csv(data), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            actions.export_xlsx(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    name = f"audience-{request.workspace.slug}-{start:%Y%m%d}-{end:%Y%m%d}.{kind}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/w/{slug}/audience/report.csv", response={200: None, 422: InvalidOut})
@requires(VIEW)
def audience_report_csv(request, slug: str, period: Query[AudiencePeriodIn]):
    return _export(request, period, "csv")


@router.get("/w/{slug}/audience/report.xlsx", response={200: None, 422: InvalidOut})
@requires(VIEW)
def audience_report_xlsx(request, slug: str, period: Query[AudiencePeriodIn]):
    """One sheet per table: services, gender, ages, districts, sources."""
    return _export(request, period, "xlsx")


# --- service names -------------------------------------------------------------------------------------


@router.get("/w/{slug}/audience/services/unknown", response=list[UnknownServiceOut])
@requires(VIEW)
def unknown_services(request, slug: str):
    """Service names in orders that match no profile service, with their orders, most first."""
    return [{"name": name, "orders": count} for name, count in imports.unknown_services(request.workspace)]


@router.post("/w/{slug}/audience/services/map", response={200: MapServiceOut, 422: InvalidOut})
@requires(MANAGE)
def map_service(request, slug: str, payload: MapServiceIn):
    """From now on the name means the profile service: its past orders are moved, future ones follow."""
    errors = []
    if not (payload.name or "").strip():
        errors.append(("name", "required: the service name as the orders write it"))
    service = None
    if payload.service_id is None:
        errors.append(("service_id", "required: the profile service's id"))
    else:
        service = Service.objects.filter(pk=payload.service_id, workspace=request.workspace).first()
        if service is None:
            errors.append(("service_id", "no such service in this workspace"))
    if errors:
        return invalid(*errors)
    try:
        count = imports.map_service(request.membership, payload.name, service)
    except imports.ImportRefused as error:
        return refusal(error, "name")
    return {"name": payload.name, "service_id": service.pk, "updated": count}


# --- segments ------------------------------------------------------------------------------------------


def _segment(request, segment_id: int) -> Segment:
    return get_object_or_404(
        Segment.objects.prefetch_related("services"), pk=segment_id, workspace=request.workspace
    )


def _segment_data(payload: SegmentIn) -> dict:
    data = payload.model_dump()
    return {**data, "services": data["services"] or [], "districts": data["districts"] or []}


@router.get("/w/{slug}/audience/segments", response=list[SegmentOut])
@requires(VIEW)
def list_segments(request, slug: str):
    found = Segment.objects.filter(workspace=request.workspace).prefetch_related("services")
    return [_segment_out(segment) for segment in found]


@router.post("/w/{slug}/audience/segments", response={201: SegmentOut, 422: InvalidOut})
@requires(MANAGE)
def create_segment(request, slug: str, payload: SegmentIn):
    """A new segment; empty parts mean "any". A suggestion's `segment_data` can be sent as it is."""
    try:
        segment = actions.save_segment(request.membership, _segment_data(payload))
    except actions.AudienceError as error:
        return refusal(error)
    return Status(201, _segment_out(_segment(request, segment.pk)))


@router.get("/w/{slug}/audience/segments/{segment_id}", response=SegmentOut)
@requires(VIEW)
def get_segment(request, slug: str, segment_id: int):
    return _segment_out(_segment(request, segment_id))


@router.put("/w/{slug}/audience/segments/{segment_id}", response={200: SegmentOut, 422: InvalidOut})
@requires(MANAGE)
def update_segment(request, slug: str, segment_id: int, payload: SegmentIn):
    """Replace the segment's definition (send every part; a part left out means "any")."""
    segment = _segment(request, segment_id)
    try:
        actions.save_segment(request.membership, _segment_data(payload), segment)
    except actions.AudienceError as error:
        return refusal(error)
    return _segment_out(_segment(request, segment_id))


@router.delete("/w/{slug}/audience/segments/{segment_id}", response={204: None, 422: InvalidOut})
@requires(MANAGE)
def delete_segment(request, slug: str, segment_id: int):
    segment = _segment(request, segment_id)
    try:
        actions.delete_segment(request.membership, segment)
    except actions.AudienceError as error:
        return refusal(error)
    return Status(204, None)


@router.get("/w/{slug}/audience/suggestions", response=list[SegmentSuggestionOut])
@requires(VIEW)
def suggestions(request, slug: str):
    """Who to target: the biggest service × gender × age-group groups of the last 90 days."""
    return actions.suggestions(request.workspace)
