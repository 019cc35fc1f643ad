"""`kpibot doctor`'s DingTalk check: the client id and secret buy an app access token."""

from __future__ import annotations

from bot.dingtalk.client import DingTalkApi, DingTalkApiError
from storage.settings import Settings

FIX = ("copy Client ID (AppKey) and Client Secret (AppSecret) from the DingTalk developer console's app "
       "credentials page into DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET")
FIX_UNREACHABLE = "check DINGTALK_API_URL (https://api.dingtalk.com) and that this host may make outbound HTTPS calls"


def credential_problems(settings: Settings) -> list[tuple[str, str, str]]:
    """(check, problem, fix) when the access token is refused or unreachable; [] when one is issued."""
    api = DingTalkApi(client_id=settings.dingtalk_client_id,
                      client_secret=settings.dingtalk_client_secret.get_secret_value(),
                      robot_code=settings.dingtalk_robot_code, api_url=settings.dingtalk_api_url,
                      oapi_url=settings.dingtalk_oapi_url, max_wait_seconds=0)
    try:
        api.tokens.get()
        return []
    except DingTalkApiError as exc:
        return [("DingTalk access token", f"DingTalk refused the access token request (HTTP {exc.status} {exc.code})",
                 FIX)]
    except Exception as exc:  # requests' connection errors
        return [("DingTalk access token", f"cannot reach DINGTALK_API_URL ({type(exc).__name__})", FIX_UNREACHABLE)]
    finally:
        api.close()
