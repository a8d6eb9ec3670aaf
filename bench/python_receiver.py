"""The push receiver a wechatpy user would write, for bench/serve-ingest.sh:
wechatpy 1.8.18's crypto and parser, Python's sqlite3 with one commit per
push (WAL, synchronous=FULL: as durable as `wxmass serve`), answered only
after the commit, served by uvicorn with uvloop and httptools (the fastest
server such a user would pick), as a bare ASGI app (no framework cost).

    uvicorn --app-dir bench python_receiver:app   # with the env below
    RECEIVER_DB, RECEIVER_TOKEN, RECEIVER_AES_KEY, RECEIVER_APPID
"""

import os
import sqlite3
from urllib.parse import parse_qs

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

TOKEN = os.environ["RECEIVER_TOKEN"]
crypto = WeChatCrypto(TOKEN, os.environ["RECEIVER_AES_KEY"], os.environ["RECEIVER_APPID"])
db = sqlite3.connect(os.environ["RECEIVER_DB"], isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = FULL")
db.execute(
    "CREATE TABLE IF NOT EXISTS pushes (msg_id INTEGER PRIMARY KEY, status TEXT, total_count INTEGER,"
    " filter_count INTEGER, sent_count INTEGER, error_count INTEGER, received_at INTEGER)"
)


async def read_body(receive):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def answer(send, status, text):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(text)).encode())]})
    await send({"type": "http.response.body", "body": text.encode()})


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    q = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    body = await read_body(receive)
    try:
        check_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"])
        xml = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
    except (KeyError, InvalidSignatureException):
        await answer(send, 403, "forbidden")
        return
    msg = parse_message(xml)
    db.execute("BEGIN")
    db.execute(
        "INSERT OR IGNORE INTO pushes VALUES (?, ?, ?, ?, ?, ?, strftime('%s','now'))",
        (msg.id, msg.status, msg.total_count, msg.filter_count, msg.sent_count, msg.error_count),
    )
    db.execute("COMMIT")
    await answer(send, 200, "success")
