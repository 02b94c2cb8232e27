import json

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from smmdesk.accounts.models import Workspace
from smmdesk.channels import config as channel_config
from smmdesk.channels import registry
from smmdesk.lib import crypto


class Channel(models.Model):
    """One connected account, group, page or mailbox."""

    class Status(models.TextChoices):
        NEW = "new", _("Not checked yet")
        OK = "ok", _("Working")
        NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")
        ERROR = "error", _("Error")
        DISABLED = "disabled", _("Disabled")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("network"), max_length=30)
    name = models.CharField(_("name"), max_length=120)
    config = models.JSONField(default=dict, blank=True)
    # Fernet token of a JSON object holding the secret config fields; never decrypted for display.
    secrets = models.TextField(default="", blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    last_error = models.TextField(_("last error"), blank=True)
    # Our own id on the network: messages from it are our own, never taken in as new (echo guard).
    account_id = models.CharField(max_length=200, blank=True)
    account_name = models.CharField(_("account"), max_length=200, blank=True)
    account_url = models.URLField(blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    # Where reading the network stopped (an update offset, an IMAP UID, a notification id): saved after
    # what it covers is stored, so a restart neither loses nor repeats anything.
    cursor = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="unique_channel_name")]

    def __str__(self):
        return self.name

    @property
    def adapter_class(self):
        return registry.get(self.kind)

    @property
    def known_kind(self) -> bool:
        # A row can outlive its adapter (a network removed from the registry); pages must still render.
        return self.kind in registry.ADAPTERS

    @property
    def kind_label(self) -> str:
        return str(self.adapter_class.label) if self.known_kind else self.kind

    @property
    def account_link(self) -> str:
        # The address comes from the network's answer: link to it only if it is a web address.
        return self.account_url if self.account_url.startswith(("https://", "http://")) else ""

    @property
    def is_enabled(self) -> bool:
        return self.status != self.Status.DISABLED

    def secret_values(self) -> dict:
        """Raises ValueError when the encryption key no longer matches."""
        values = json.loads(crypto.decrypt(self.secrets)) if self.secrets else {}
        # Each value, not only the JSON around it, so a token quoted inside a URL is redacted from logs.
        for value in values.values():
            if isinstance(value, str):
                crypto.remember_secret(value)
        return values

    def secrets_set(self) -> dict[str, bool]:
        """Which secret fields hold a value: all a page or API response may tell about them."""
        names = channel_config.secret_names(self.adapter_class.Config) if self.known_kind else []
        try:
            stored = self.secret_values()
        except ValueError:
            # Unreadable with the current key: something is stored, and the next check will say so.
            return {name: bool(self.secrets) for name in names}
        return {name: name in stored for name in names}

    def typed_config(self) -> BaseModel:
        return self.adapter_class.Config(**self.config, **self.secret_values())

    def store_config(self, config: BaseModel) -> None:
        plain, hidden = channel_config.split(config)
        # Known before anything could log them, so the log filter redacts them from the start.
        for value in hidden.values():
            crypto.remember_secret(value)
        self.config = plain
        self.secrets = crypto.encrypt(json.dumps(hidden)) if hidden else ""

    def adapter(self):
        return self.adapter_class(self.typed_config(), channel_id=self.pk)


class PublishRecord(models.Model):
    """One publication by idempotency key: the ledger that keeps a retried publish from posting twice.

    Written before the network is called (state "sending") and completed with the network's id; a retry
    that finds "sent" returns the stored id, one that finds "sending" asks the network (find_published)
    before posting again.
    """

    class State(models.TextChoices):
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        # An attempt may have posted and the network cannot tell: a person must look before a repost.
        UNCERTAIN = "uncertain"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="publications")
    idempotency_key = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SENDING)
    external_id = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "idempotency_key"], name="one_publication_per_key")
        ]

    def __str__(self):
        return f"{self.channel_id}:{self.idempotency_key} ({self.state})"
