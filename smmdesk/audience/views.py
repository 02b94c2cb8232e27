"""The audience section's pages, by topic: the report (report_views.py), orders with quick entry and the
service names found in orders (here), the import (import_views.py) and segments (segment_views.py).
Mounted at /w/<slug>/audience/. Helpers here are shared by the other views.

Every member who may read the section (audience.view) sees every page; the owner and SMM managers
(audience.manage) change things. Each view parses, calls one use case (actions.py, imports.py) and renders
a page, an HTMX partial, or redirects. Rows are looked up inside the workspace from the URL, so another
workspace's id is not found. Order fields come from a CRM export or a person: the templates only
autoescape them.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from smmdesk.accounts.access import can, workspace_view
from smmdesk.audience import actions, imports
from smmdesk.audience.forms import OrderForm, ServiceMapForm, add_errors
from smmdesk.audience.models import Gender, Order, ServiceAlias
from smmdesk.business.models import Service
from smmdesk.publishing.scheduling import workspace_zone

VIEW, MANAGE = "audience.view", "audience.manage"
ORDERS_PER_PAGE = 50
UNKNOWN = "unknown"
# The report's keys for what an order did not say, in the reader's language.
UNKNOWN_LABEL = gettext_lazy("not stated")
GENDER_LABELS = {value: label for value, label in Gender.choices}


# Shared with the other audience views


def audience_url(request, name: str, **kwargs) -> str:
    return reverse(f"audience:{name}", kwargs={"slug": request.workspace.slug, **kwargs})


def render_page(request, template: str, context: dict, status: int = 200):
    # Times read as the business's clock, wherever the member sits.
    with timezone.override(workspace_zone(request.workspace)):
        return render(
            request,
            template,
            {"active_section": "audience", "can_manage": can(request, MANAGE), **context},
            status=status,
        )


def percent(share: float | None, digits: int = 1) -> str:
    """A fraction of 1 as a percentage written the reader's way ("35.5 %", "35,5 %")."""
    if share is None:
        return "—"
    return f"{number_format(share * 100, digits, use_l10n=True)} %"


def signed_percent(change: float | None) -> str:
    if change is None:
        return "—"
    sign = "+" if change > 0 else ""
    return sign + percent(change)


def money(value) -> str:
    if value is None:
        return "—"
    amount = Decimal(value)
    digits = 0 if amount == amount.to_integral_value() else 2
    return number_format(amount, digits, use_l10n=True, force_grouping=True)


def value_label(value: str, kind: str = "") -> str:
    """A gender, an age group, a district or a source as a reader sees it."""
    if value == UNKNOWN or value == "":
        return str(UNKNOWN_LABEL)
    if kind == "gender":
        return str(GENDER_LABELS.get(value, value))
    return value


def refused(error) -> str:
    """What a refused use case says, in one line; a role that may not is a 403, never a message."""
    if isinstance(error, actions.NotAllowed | imports.NotAllowed):
        raise PermissionDenied(error.message)
    errors = getattr(error, "errors", None)
    if errors:
        return " ".join(str(message) for _field, message in errors)
    return str(getattr(error, "message", "") or error)


def profile_services(workspace):
    return Service.objects.filter(workspace=workspace).order_by("name")


def profile_districts(workspace) -> list[str]:
    profile = getattr(workspace, "profile", None)
    districts = getattr(profile, "districts", None)
    return [str(d) for d in districts] if isinstance(districts, list) else []


# Orders and quick entry


def _orders_page(request, form: OrderForm, status: int = 200):
    orders = Order.objects.filter(workspace=request.workspace).select_related("service")
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "order": order,
            "service": order.service.name if order.service_id else order.service_name,
            "linked": order.service_id is not None,
            "gender": value_label(order.gender, "gender"),
            "price": money(order.price),
        }
        for order in page.object_list
    ]
    context = {
        "tab": "orders",
        "form": form,
        "rows": rows,
        "page": page,
        "services": profile_services(request.workspace),
        "districts": profile_districts(request.workspace),
    }
    return render_page(request, "audience/orders.html", context, status=status)


@workspace_view(VIEW, write=MANAGE)
def orders(request):
    if request.method != "POST":
        return _orders_page(request, OrderForm(auto_id="order_%s"))
    form = OrderForm(request.POST, auto_id="order_%s")
    if form.is_valid():
        try:
            order = actions.add_order(request.membership, form.data_for_action())
        except actions.InvalidInput as error:
            add_errors(form, error.errors)
        except actions.AudienceError as error:
            form.add_error(error.field if error.field in form.fields else None, refused(error))
        else:
            messages.success(request, _("Order %(order)s added.") % {"order": order.order_id})
            return redirect(audience_url(request, "orders"))
    return _orders_page(request, form, status=400)


@workspace_view(MANAGE)
@require_POST
def order_delete(request, order_id):
    order = get_object_or_404(Order, pk=order_id, workspace=request.workspace)
    try:
        actions.delete_order(request.membership, order)
    except actions.AudienceError as error:
        messages.error(request, refused(error))
    else:
        messages.success(request, _("Order %(order)s deleted.") % {"order": order.order_id})
    return redirect(audience_url(request, "orders"))


# Service names found in orders that the profile does not know


def _services_page(request, forms_by_name: dict | None = None, status: int = 200):
    services = list(profile_services(request.workspace))
    forms_by_name = forms_by_name or {}
    rows = []
    for name, count in imports.unknown_services(request.workspace):
        form = forms_by_name.get(name) or ServiceMapForm(
            initial={"name": name}, services=services, auto_id=f"map{len(rows)}_%s"
        )
        rows.append({"name": name, "orders": count, "form": form})
    aliases = (
        ServiceAlias.objects.filter(workspace=request.workspace).select_related("service").order_by("name")
    )
    context = {"tab": "services", "rows": rows, "aliases": aliases, "has_services": bool(services)}
    return render_page(request, "audience/services.html", context, status=status)


@workspace_view(VIEW, write=MANAGE)
def services(request):
    if request.method != "POST":
        return _services_page(request)
    profile = list(profile_services(request.workspace))
    form = ServiceMapForm(request.POST, services=profile, auto_id="map_%s")
    if form.is_valid():
        service = next(s for s in profile if s.pk == form.cleaned_data["service"])
        name = form.cleaned_data["name"]
        try:
            count = imports.map_service(request.membership, name, service)
        except (actions.AudienceError, imports.ImportRefused) as error:
            form.add_error("service", refused(error))
        else:
            messages.success(
                request,
                ngettext(
                    "“%(name)s” now counts as %(service)s: %(count)d order updated.",
                    "“%(name)s” now counts as %(service)s: %(count)d orders updated.",
                    count,
                )
                % {"name": name, "service": service.name, "count": count},
            )
            return redirect(audience_url(request, "services"))
    messages.error(request, _("The name was not mapped: correct the field marked below."))
    return _services_page(request, {request.POST.get("name", ""): form}, status=400)


urlpatterns = [
    path("orders/", orders, name="orders"),
    path("orders/<int:order_id>/delete/", order_delete, name="order_delete"),
    path("services/", services, name="services"),
]
