from ninja import Router, Schema

from smmdesk.api import user_operation

router = Router(tags=["accounts"])


class MembershipOut(Schema):
    slug: str
    name: str
    role: str


class MeOut(Schema):
    email: str
    name: str
    language: str
    workspaces: list[MembershipOut]


@router.get("/me", response=MeOut)
@user_operation
def me(request):
    user = request.auth
    return {
        "email": user.email,
        "name": user.name,
        "language": user.language,
        "workspaces": [
            {"slug": m.workspace.slug, "name": m.workspace.name, "role": m.role}
            for m in user.memberships_in_order()
        ],
    }
