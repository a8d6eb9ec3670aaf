"""wechatpy 1.8.18's WeChatClient, unmodified, pointed at the emulator: only
the API base and the token URL move. Shared by the bench scripts."""

from wechatpy import WeChatClient


def emulator_client(base, appid, secret):
    """A WeChatClient for the emulator at `base` (http://127.0.0.1:PORT)."""

    class EmulatorClient(WeChatClient):
        API_BASE_URL = base + "/cgi-bin/"

        def fetch_access_token(self):
            return self._fetch_access_token(
                url=base + "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    return EmulatorClient(appid, secret)
