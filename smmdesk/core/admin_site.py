from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import Role


def restrict_admin_to_owners(site):
    """The admin sees every workspace, so only a superuser who owns a workspace may enter it."""

    def has_permission(request):
        user = request.user
        return (
            user.is_active
            and user.is_superuser
            and Membership.objects.filter(user=user, role=Role.OWNER).exists()
        )

    site.has_permission = has_permission
    site.site_header = "smmdesk"
    site.site_title = "smmdesk admin"
