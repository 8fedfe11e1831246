from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from neuroclinic.accounts.access import staff_required
from neuroclinic.http import AuthenticatedHttpRequest
from neuroclinic.notifications.actions import mark_read
from neuroclinic.notifications.models import Notification


@staff_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    notifications = Notification.objects.filter(recipient=request.user)[:100]
    return render(request, "notifications/inbox.html", {"notifications": notifications})


@staff_required
@require_POST
def open_notification(
    request: AuthenticatedHttpRequest, notification_uuid: str
) -> HttpResponse:
    notification = get_object_or_404(
        Notification, uuid=notification_uuid, recipient=request.user
    )
    mark_read(notification)
    if notification.link and url_has_allowed_host_and_scheme(
        notification.link, allowed_hosts={request.get_host()}
    ):
        return redirect(notification.link)
    return redirect("notifications:inbox")
