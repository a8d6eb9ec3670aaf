"""Unmodified wechatpy 1.8.18 against the wxmass-emulator binary.

wechatpy is pointed at the emulator the way its docs allow: a subclass sets
API_BASE_URL and fetches the token from the emulator's /cgi-bin/token (the
library hard-codes api.weixin.qq.com there). Nothing in wechatpy is patched.
Run with compat/wechatpy/run.sh.
"""

import http.server
import os
import queue
import subprocess
import threading
import time
import urllib.parse

import pytest
import datetime
import json
import urllib.request

from wechatpy import WeChatClient, parse_message
from wechatpy.client.api import WeChatDataCube
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException

APPID = "wx1111222233334444"
SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "compatToken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
JPEG = bytes([0xFF, 0xD8, 0xFF, 0xE0, 0, 16]) + b"JFIF" + bytes(10)


class PushSink(http.server.BaseHTTPRequestHandler):
    """Receives the emulator's pushes and queues (query, body)."""

    received: "queue.Queue[tuple[dict, bytes]]" = queue.Queue()

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query))
        PushSink.received.put((query, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"success")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def sink():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PushSink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/wechat"
    server.shutdown()


def spawn_emulator(*extra):
    """The emulator binary on a free port; (process, its URL)."""
    binary = os.environ["WXMASS_EMULATOR"]
    proc = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--appid", APPID, "--secret", SECRET, *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    assert line.startswith("wxmass-emulator listening on "), line
    return proc, line.rsplit(" ", 1)[1]


@pytest.fixture(scope="module")
def emulator(sink):
    proc, url = spawn_emulator(
        "--followers", "50", "--tags", "2", "--job-delay-ms", "50",
        "--callback-url", sink, "--callback-token", TOKEN,
        "--callback-aes-key", AES_KEY, "--callback-mode", "safe",
    )
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def client_for(emulator):
    """wechatpy's client, its API_BASE_URLs (the client's and datacube's)
    set to the emulator by subclassing, as wechatpy allows."""

    class EmulatedDataCube(WeChatDataCube):
        API_BASE_URL = emulator + "/datacube/"

    class EmulatorClient(WeChatClient):
        API_BASE_URL = emulator + "/cgi-bin/"
        datacube = EmulatedDataCube()

        def fetch_access_token(self):
            return self._fetch_access_token(
                url=emulator + "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    return EmulatorClient(APPID, SECRET)


@pytest.fixture(scope="module")
def client(emulator):
    return client_for(emulator)


def test_token(client):
    assert len(client.access_token) >= 100


def test_tags_list_and_create(client):
    created = client.tag.create("wechatpy")
    assert created["name"] == "wechatpy"
    names = [t["name"] for t in client.tag.get()]
    assert "wechatpy" in names


def test_followers(client):
    followers = client.user.get_followers()
    assert followers["total"] == 50
    assert len(followers["data"]["openid"]) == 50
    every = list(client.user.iter_followers())
    assert len(every) == 50
    info = client.user.get(every[0])
    assert info["subscribe"] == 1


def test_image_upload_and_news(client):
    image = client.media.upload("image", ("a.jpg", JPEG))
    assert image["type"] == "image"
    thumb = client.media.upload("thumb", ("c.jpg", JPEG))
    news = client.media.upload_articles(
        [{"thumb_media_id": thumb["media_id"], "title": "标题", "content": "<p>内容</p>"}]
    )
    assert news["type"] == "news"
    assert news["media_id"]


def first_tag(client):
    return next(t["id"] for t in client.tag.get() if t["count"] > 0)


def wait_done(client, msg_id):
    for _ in range(200):
        status = client.message.get_mass(msg_id)["msg_status"]
        if status != "SENDING":
            return status
        time.sleep(0.02)
    raise AssertionError(f"job {msg_id} never finished")


def test_text_and_mpnews_to_a_tag_and_to_openids(client):
    tag = first_tag(client)
    text = client.message.send_mass_text(tag, "hello from wechatpy")
    assert text["errcode"] == 0 and text["msg_id"]
    openids = client.user.get_followers()["data"]["openid"][:3]
    to_users = client.message.send_mass_text(openids, "hello, three of you")
    assert to_users["errcode"] == 0

    thumb = client.media.upload("thumb", ("c.jpg", JPEG))
    news = client.media.upload_articles(
        [{"thumb_media_id": thumb["media_id"], "title": "T", "content": "<p>x</p>"}]
    )
    article_tag = client.message.send_mass_article(tag, news["media_id"])
    assert article_tag["msg_data_id"]
    article_users = client.message.send_mass_article(openids, news["media_id"], client_msg_id="wechatpy-1")
    assert article_users["errcode"] == 0
    for sent in (text, to_users, article_tag, article_users):
        assert wait_done(client, sent["msg_id"]) == "SEND_SUCCESS"


def test_preview(client):
    openid = client.user.get_followers()["data"]["openid"][0]
    res = client.message.send_mass_text(openid, "preview", preview=True)
    assert res["errcode"] == 0


def test_get_and_delete_mass(client):
    thumb = client.media.upload("thumb", ("c.jpg", JPEG))
    news = client.media.upload_articles(
        [{"thumb_media_id": thumb["media_id"], "title": "To delete", "content": "<p>x</p>"}]
    )
    sent = client.message.send_mass_article(None, news["media_id"], is_to_all=True, client_msg_id="wechatpy-del")
    assert wait_done(client, sent["msg_id"]) == "SEND_SUCCESS"
    client.message.delete_mass(sent["msg_id"])
    assert client.message.get_mass(sent["msg_id"])["msg_status"] == "DELETE"


def test_safe_mode_push_decrypts_with_wechatcrypto(client):
    while not PushSink.received.empty():
        PushSink.received.get_nowait()
    tag = first_tag(client)
    sent = client.message.send_mass_text(tag, "report me", client_msg_id="wechatpy-push")
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    deadline = time.time() + 10
    while time.time() < deadline:
        query, body = PushSink.received.get(timeout=10)
        xml = crypto.decrypt_message(body, query["msg_signature"], query["timestamp"], query["nonce"])
        event = parse_message(xml)
        assert event.event == "masssendjobfinish"
        if event.id == sent["msg_id"]:
            assert event.status == "send success"
            assert event.sent_count > 0
            return
    raise AssertionError("no push for the job")


def admin(url, path, body=None):
    """The emulator's admin API."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def test_datacube_after_a_delivered_article():
    """An article sent to every follower, a day on (09:00 Beijing time):
    wechatpy's datacube calls read its figures."""
    proc, url = spawn_emulator("--followers", "400", "--job-delay-ms", "20", "--seed", "3")
    try:
        client = client_for(url)
        thumb = client.media.upload("thumb", ("c.jpg", JPEG))
        news = client.media.upload_articles(
            [
                {"thumb_media_id": thumb["media_id"], "title": "第一篇", "content": "<p>1</p>"},
                {"thumb_media_id": thumb["media_id"], "title": "Second", "content": "<p>2</p>"},
            ]
        )
        sent = client.message.send_mass_article(None, news["media_id"], is_to_all=True)
        assert wait_done(client, sent["msg_id"]) == "SEND_SUCCESS"
        now = datetime.datetime.fromtimestamp(admin(url, "/_emulator/clock")["now"], BEIJING)
        day = now.date()
        nine_tomorrow = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(9), BEIJING)
        admin(url, "/_emulator/clock", {"advance_seconds": int((nine_tomorrow - now).total_seconds())})

        summary = client.datacube.get_article_summary(day, day)
        assert [row["title"] for row in summary] == ["第一篇", "Second"]
        assert summary[0]["msgid"] == f"{sent['msg_data_id']}_1"
        assert summary[0]["int_page_read_user"] > 0
        total = client.datacube.get_article_total(day, day)
        assert total[0]["details"][0]["target_user"] == 400
        reads = client.datacube.get_user_read(day, day)
        assert any(r["user_source"] == 99999999 for r in reads)
        assert client.datacube.get_user_read_hour(day, day)
        assert client.datacube.get_user_share(day, day)
        assert client.datacube.get_user_share_hour(day, day)
        assert client.datacube.get_user_summary(day, day)
        assert client.datacube.get_user_cumulate(day, day)[0]["cumulate_user"] > 0
        with pytest.raises(WeChatClientException) as refused:
            client.datacube.get_user_read(day - datetime.timedelta(days=3), day)
        assert refused.value.errcode == 61501
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_draft_and_freepublish(client):
    """wechatpy 1.8.18 has no draft or freepublish methods (they came
    later): its generic client.post reaches them, unmodified."""
    thumb = client.material.add("thumb", ("c.jpg", JPEG))
    draft = client.post(
        "draft/add",
        data={"articles": [{"title": "草稿", "thumb_media_id": thumb["media_id"], "content": "<p>x</p>"}]},
    )
    submitted = client.post("freepublish/submit", data={"media_id": draft["media_id"]})
    assert submitted["errcode"] == 0 and submitted["publish_id"]
    for _ in range(200):
        status = client.post("freepublish/get", data={"publish_id": submitted["publish_id"]})
        if status["publish_status"] != 1:
            break
        time.sleep(0.02)
    assert status["publish_status"] == 0, status
    assert status["article_detail"]["item"][0]["idx"] == 1
    listed = client.post("freepublish/batchget", data={"offset": 0, "count": 20, "no_content": 1})
    assert listed["total_count"] >= 1
    assert listed["item"][0]["content"]["news_item"][0]["title"] == "草稿"
    with pytest.raises(WeChatClientException) as refused:
        client.post("freepublish/submit", data={"media_id": draft["media_id"]})
    assert refused.value.errcode == 40007  # published drafts leave the box


def admin_post(emulator, path, body):
    request = urllib.request.Request(
        emulator + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def test_template_message(client, emulator):
    client.template.set_industry(1, 2)
    template_id = client.template.get("47123")
    templates = client.template.get_all_private_template()["template_list"]
    assert any(t["template_id"] == template_id for t in templates)
    openid = client.user.get_followers()["data"]["openid"][0]
    sent = client.message.send_template(
        openid, template_id,
        {"thing1": {"value": "冬季外套"}, "thing2": {"value": "顺丰"},
         "character_string3": {"value": "SF1234"}, "time4": {"value": "2026-12-06 08:00"}},
    )
    assert sent["errcode"] == 0 and sent["msgid"]
    with pytest.raises(WeChatClientException) as refused:
        client.message.send_template(openid, template_id, {"thing1": {"value": "x" * 21}})
    assert refused.value.errcode == 47003


def test_customer_service_text(client, emulator):
    openid = client.user.get_followers()["data"]["openid"][1]
    with pytest.raises(WeChatClientException) as refused:
        client.message.send_text(openid, "before they wrote")
    assert refused.value.errcode == 45015
    admin_post(emulator, "/_emulator/interactions", {"openid": openid, "kind": "message"})
    assert client.message.send_text(openid, "thanks for writing")["errcode"] == 0


def test_one_time_subscription(client, emulator):
    openid = client.user.get_followers()["data"]["openid"][2]
    consent = admin_post(emulator, "/_emulator/consents", {"openid": openid, "scene": 3})
    data = {"content": {"value": "您关注的商品已到货", "color": "#173177"}}
    sent = client.message.send_subscribe_template(openid, consent["template_id"], 3, "到货提醒", data)
    assert sent["errcode"] == 0
    with pytest.raises(WeChatClientException) as refused:
        client.message.send_subscribe_template(openid, consent["template_id"], 3, "到货提醒", data)
    assert refused.value.errcode == 43101
