from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignalingConfig(AppConfig):
    name = "signaling"
    verbose_name = _("Signaling")

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the settings checks)
            receivers,  # noqa: F401  (connects the logout receiver)
            transport,
        )

        transport.install()
