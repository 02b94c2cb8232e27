"""VK's API played by a local server (FakeVK on the shared MockAPI): the methods the adapter calls, with
answers shaped like VK's documentation (fixtures/*.json), VK's error envelope, which key may call which
method, guid and random_id deduplication, and a Bots Long Poll server."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from functools import partial
from pathlib import Path

import pytest
from huey.contrib.djhuey import HUEY

from smmdesk.channels import actions as channel_actions
from smmdesk.channels.vk import api as vk_api
from smmdesk.channels.vk.adapter import VKAdapter
from smmdesk.channels.vk.config import VKConfig

FIXTURES = Path(__file__).parent / "fixtures"
GROUP = 218000111
# Long and distinctive, so finding one anywhere in an error text or a log line is a real leak.
COMMUNITY = "vk1.a.community-Tq93-secret-token-55aa"
USER = "vk1.a.admin-user-Rw41-secret-token-77bb"
SERVICE = "service-Ks28-secret-key-0099aa"
SECRET = "callback-Zx71-secret-3344bb"
CODE = "a1b2c3d4"
PEOPLE = {5551001: ("Анна", "Смирнова"), 5551002: ("Игорь", "Петров"), 5551003: ("Ольга", "Кузнецова")}
LP_BASE = 1000

# Which key VK lets call which method (dev.vk.com method pages; VK answers 27 to a community key, 28 to a
# service key, calling a method that needs a user key).
USER_ONLY = {"wall.post", "wall.deleteComment", "photos.getWallUploadServer", "photos.saveWallPhoto"}
NO_COMMUNITY = {"wall.getById", "wall.getComments", "wall.getReposts", "likes.getList"}
COMMUNITY_ONLY = {"groups.getLongPollServer", "groups.getCallbackConfirmationCode"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def delivery(name: str, secret: str | None = SECRET, **over) -> bytes:
    """A Callback API request body: the event as VK documents it, with the secret VK adds to each one."""
    data = fixture(name)
    data.update(over)
    if secret is not None:
        data["secret"] = secret
    return json.dumps(data, ensure_ascii=False).encode()


def vk_error(code: int, text: str):
    return (
        200,
        {},
        {
            "error": {
                "error_code": code,
                "error_msg": text,
                "request_params": [{"key": "v", "value": "5.199"}],
            }
        },
    )


class FakeVK:
    def __init__(self, api):
        self.api = api
        self.keys = {COMMUNITY: "community", USER: "user", SERVICE: "service"}
        self.revoked: set[str] = set()
        self.queued: dict[str, list] = defaultdict(list)  # answers given before the normal one, per method
        self.ids = itertools.count(500)
        self.posts: dict[int, dict] = {}
        self.comments: dict[int, dict] = {}
        self.messages: dict[int, dict] = {}  # by random_id
        self.guids: dict[str, int] = {}
        self.deleted: list[tuple[int, int]] = []
        self.blocked: set[int] = set()
        self.admin = 1
        self.members = {5551001, 5551003}
        self.members_count: int | None = 1342
        self.updates: list[dict] = []
        self.lp_key = "lp-key-1"
        self.lp_failures: list[dict] = []
        self.uploads: list[bytes] = []
        for name in dir(self):
            if name.startswith("m_"):
                method = name[2:].replace("_", ".", 1)
                api.route("POST", f"/method/{method}")(partial(self._dispatch, method))
        api.route("GET", "/lp")(self._long_poll)
        api.route("POST", "/upload")(self._upload)
        api.route("GET", "/img/salon.jpg")(
            lambda r: (200, {"Content-Type": "image/jpeg"}, b"\xff\xd8\xff\xe0jpeg")
        )

    def fail(self, method: str, code: int, text: str = "error", times: int = 1) -> None:
        self.queued[method] += [vk_error(code, text)] * times

    def calls(self, method: str) -> list[dict]:
        return [r.form() for r in self.api.calls("POST", f"/method/{method}")]

    def _dispatch(self, method, request):
        form = request.form()
        if request.query.get("access_token"):
            return vk_error(100, "access_token must not travel in the address")
        if form.get("v") != "5.199":
            return vk_error(8, "Invalid request: v is required")
        kind = self.keys.get(form.get("access_token", ""))
        if kind is None or form["access_token"] in self.revoked:
            return vk_error(5, "User authorization failed: invalid access_token (4).")
        if self.queued[method]:
            return self.queued[method].pop(0)
        if method in USER_ONLY and kind != "user" or method in NO_COMMUNITY and kind == "community":
            code = 27 if kind == "community" else 28
            return vk_error(code, "Group authorization failed: method is unavailable with group auth.")
        if method in COMMUNITY_ONLY and kind != "community":
            return vk_error(15, "Access denied: this method is available only with a community key")
        return 200, {}, {"response": getattr(self, "m_" + method.replace(".", "_", 1))(form, kind)}

    # --- methods ---------------------------------------------------------------------------------------

    def m_groups_getById(self, form, kind):
        group = fixture("groups_getById")["response"]["groups"][0]
        if form.get("group_ids"):
            ids = [int(i) for i in form["group_ids"].split(",")]
            return {"groups": [{"id": i, "name": f"Community {i}", "screen_name": f"club{i}"} for i in ids]}
        if kind == "user":
            group = {**group, "is_admin": self.admin, "admin_level": 3 if self.admin else 0}
        # VK adds a field only when `fields` asks for it, and members_count not at all for a community
        # that hides its members (members_count None here).
        if "members_count" in form.get("fields", "").split(",") and self.members_count is not None:
            group = {**group, "members_count": self.members_count}
        return {"groups": [group], "profiles": []}

    def m_users_get(self, form, kind):
        ids = [int(i) for i in form["user_ids"].split(",")]
        return [{"id": i, "first_name": PEOPLE[i][0], "last_name": PEOPLE[i][1]} for i in ids if i in PEOPLE]

    def m_groups_getLongPollServer(self, form, kind):
        return {"key": self.lp_key, "server": f"{self.api.base}/lp", "ts": str(LP_BASE + len(self.updates))}

    def m_groups_getCallbackConfirmationCode(self, form, kind):
        return {"code": "fetched9"}

    def _once(self, guid: str | None, make):
        if guid and guid in self.guids:
            return self.guids[guid]
        new = make()
        if guid:
            self.guids[guid] = new
        return new

    def m_wall_post(self, form, kind):
        def make():
            post_id = next(self.ids)
            self.posts[post_id] = form
            return post_id

        return {"post_id": self._once(form.get("guid"), make)}

    def m_wall_createComment(self, form, kind):
        def make():
            comment = next(self.ids)
            self.comments[comment] = form
            return comment

        return {"comment_id": self._once(form.get("guid"), make), "parents_stack": []}

    def m_messages_send(self, form, kind):
        peer = int(form["peer_ids"])
        rid = int(form["random_id"])
        assert 0 < rid < 2**31, "random_id is an int32"
        if peer in self.blocked:
            return [
                {
                    "peer_id": peer,
                    "error": {"code": 901, "description": "Can't send messages for users without permission"},
                }
            ]
        if rid not in self.messages:
            self.messages[rid] = {**form, "message_id": next(self.ids), "cmid": 42 + len(self.messages)}
        sent = self.messages[rid]
        return [{"peer_id": peer, "message_id": sent["message_id"], "conversation_message_id": sent["cmid"]}]

    def m_wall_deleteComment(self, form, kind):
        self.deleted.append((int(form["owner_id"]), int(form["comment_id"])))
        return 1

    def m_wall_getById(self, form, kind):
        wanted = set(form["posts"].split(","))
        items = fixture("wall_getById")["response"]["items"]
        return {"items": [p for p in items if f"{p['owner_id']}_{p['id']}" in wanted]}

    def m_wall_getComments(self, form, kind):
        name = "wall_getComments_thread" if form.get("comment_id") else "wall_getComments"
        return fixture(name)["response"]

    def m_wall_getReposts(self, form, kind):
        return fixture("wall_getReposts")["response"]

    def m_likes_getList(self, form, kind):
        return fixture("likes_getList")["response"]

    def m_groups_isMember(self, form, kind):
        return [
            {"member": int(int(u) in self.members), "user_id": int(u)} for u in form["user_ids"].split(",")
        ]

    def m_photos_getWallUploadServer(self, form, kind):
        return {"upload_url": f"{self.api.base}/upload", "album_id": -14, "user_id": 100200}

    def m_photos_saveWallPhoto(self, form, kind):
        assert form["server"] == "851234" and form["hash"] == "9f8e7d"
        return [
            {"id": 457239099 + len(self.uploads), "owner_id": -GROUP, "album_id": -14, "date": 1764170000}
        ]

    # --- long poll and upload servers ------------------------------------------------------------------

    def _long_poll(self, request):
        query = {k: v[-1] for k, v in request.query.items()}
        assert query["act"] == "a_check" and query["wait"] == "0"
        if self.lp_failures:
            return 200, {}, self.lp_failures.pop(0)
        if query["key"] != self.lp_key:
            return 200, {}, {"failed": 2}
        start = int(query["ts"]) - LP_BASE
        return 200, {}, {"ts": str(LP_BASE + len(self.updates)), "updates": self.updates[max(start, 0) :]}

    def _upload(self, request):
        self.uploads.append(request.body)
        return 200, {}, {"server": 851234, "photo": '[{"photo":"abc","sizes":[]}]', "hash": "9f8e7d"}


@pytest.fixture(autouse=True)
def _no_rate_waits(monkeypatch):
    # Tests make calls faster than VK's budget allows; the budget itself is tested with frozen time.
    for kind in list(vk_api.RATES):
        monkeypatch.setitem(vk_api.RATES, kind, 1_000_000.0)


@pytest.fixture
def vk(mock_api):
    return FakeVK(mock_api)


@pytest.fixture
def settings_for(vk):
    def values(**over) -> dict:
        base = {
            "group_id": GROUP,
            "access_token": COMMUNITY,
            "secret_key": SECRET,
            "confirmation_code": CODE,
            "service_token": SERVICE,
            "user_token": USER,
            "api_url": vk.api.base,
        }
        base.update(over)
        return {k: v for k, v in base.items() if v is not None}

    return values


@pytest.fixture
def make_adapter(settings_for):
    def make(**over) -> VKAdapter:
        return VKAdapter(VKConfig(**settings_for(**over)))

    return make


@pytest.fixture
def vk_channel(cast, settings_for):
    return channel_actions.create_channel(cast.workspace, "vk", "Salon VK", settings_for())


@pytest.fixture
def run_tasks():
    """Queued tasks run in the test's own thread, as soon as they are queued."""
    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before
