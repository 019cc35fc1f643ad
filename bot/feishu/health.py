"""`kpibot doctor`'s Feishu/Lark check: the app id and secret buy a tenant access token."""

from __future__ import annotations

from bot.feishu.client import FeishuApi, FeishuApiError
from storage.settings import Settings

FIX = ("copy App ID and App Secret from the developer console's Credentials & Basic Info page into FEISHU_APP_ID "
       "and FEISHU_APP_SECRET; FEISHU_DOMAIN must be https://open.feishu.cn (Feishu) or https://open.larksuite.com "
       "(Lark)")

FIX_UNREACHABLE = "check FEISHU_DOMAIN and that this host may make outbound HTTPS calls to it"


def credential_problems(settings: Settings) -> list[tuple[str, str, str]]:
    """(check, problem, fix) when the tenant token is refused or unreachable; [] when one is issued."""
    api = FeishuApi(app_id=settings.feishu_app_id, app_secret=settings.feishu_app_secret.get_secret_value(),
                    domain=settings.feishu_domain, max_attempts=1)
    try:
        api.tokens.get()
        return []
    except FeishuApiError as exc:
        return [("Feishu tenant token", f"Feishu refused the tenant token request (code {exc.code}: {exc.msg})", FIX)]
    except Exception as exc:  # requests' connection errors, bad domain …
        return [("Feishu tenant token", f"cannot reach FEISHU_DOMAIN ({type(exc).__name__})", FIX_UNREACHABLE)]
