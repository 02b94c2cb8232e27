"""Demo keywords and landing pages for every demo workspace: queries generated from the business
profile, clustered, and (where the sites app can) one published landing page per cluster.

Run as the workspace's owner, through the same use cases as the buttons. Loading again changes nothing
new: generation is idempotent, re-clustering keeps edited clusters and page building keeps edited pages.
"""

from __future__ import annotations

from smmdesk.accounts.models import Membership
from smmdesk.accounts.roles import Role
from smmdesk.keywords import clusters, generate
from smmdesk.sites import actions as site_actions
from smmdesk.sites.models import Page


def load(workspace) -> dict:
    owner = (
        Membership.objects.filter(workspace=workspace, role=Role.OWNER).select_related("workspace").first()
    )
    if owner is None or getattr(workspace, "profile", None) is None:
        return {}
    result = {"generated": generate.run(owner)}
    # The lemma path: the demo loads in seconds and needs no embedding model on disk.
    result["clustered"] = clusters.recluster(owner, use_embeddings=False)
    result["pages"] = site_actions.build_pages(owner)
    for page in Page.objects.filter(workspace=workspace, published=False):
        site_actions.set_published(owner, page, True)
    return result
