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
    account_name = models.CharField(_("account"), max_length=200, blank=True)
    account_url = models.URLField(blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="unique_channel_name")]

    def __str__(self):
        return self.name

    @property
    def adapter_class(self):
        return registry.get(self.kind)

    def secret_values(self) -> dict:
        return json.loads(crypto.decrypt(self.secrets)) if self.secrets else {}

    def typed_config(self) -> BaseModel:
        return self.adapter_class.Config(**self.config, **self.secret_values())

    def store_config(self, config: BaseModel) -> None:
        plain, hidden = channel_config.split(config)
        self.config = plain
        self.secrets = crypto.encrypt(json.dumps(hidden)) if hidden else ""

    def adapter(self):
        return self.adapter_class(self.typed_config(), channel_id=self.pk)
