// Unmodified co-wechat-api 3.11.0 (Node) against the wxmass-emulator
// binary: a template message from the library, a customer-service text
// refused outside the follower's window (45015) and sent inside it.
// The client is pointed at the emulator by setting its `prefix` property,
// the one place the library keeps WeChat's address; nothing is patched.
// Run with compat/co-wechat-api/run.sh.
"use strict";

const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const readline = require("node:readline");
const API = require("co-wechat-api");

const APPID = "wx1111222233334444";
const SECRET = "0123456789abcdef0123456789abcdef";

function startEmulator() {
  const proc = spawn(process.env.WXMASS_EMULATOR,
    ["--listen", "127.0.0.1:0", "--appid", APPID, "--secret", SECRET, "--followers", "5"],
    { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: proc.stdout });
    lines.once("line", (line) => {
      const prefix = "wxmass-emulator listening on ";
      if (!line.startsWith(prefix)) reject(new Error(line));
      resolve({ proc, url: line.slice(prefix.length).trim() });
    });
    proc.once("error", reject);
  });
}

async function refusedWith(promise, errcode) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, errcode, String(err));
    return true;
  });
}

async function main() {
  const { proc, url } = await startEmulator();
  try {
    const api = new API(APPID, SECRET);
    api.prefix = url + "/cgi-bin/";

    await api.setIndustry({ industry_id1: "1", industry_id2: "2" });
    const added = await api.addTemplate("47123");
    assert.ok(added.template_id, JSON.stringify(added));
    const followers = await api.getFollowers();
    const [first, second] = followers.data.openid;
    const sent = await api.sendTemplate(first, added.template_id, "https://example.com/order", "#FF0000", {
      thing1: { value: "冬季外套" }, thing2: { value: "顺丰" },
      character_string3: { value: "SF1234" }, time4: { value: "2026-12-06 08:00" },
    });
    assert.equal(sent.errcode, 0);
    assert.ok(sent.msgid);
    await refusedWith(api.sendTemplate(first, added.template_id, "", "", {
      thing1: { value: "一件名字长到超过二十个字符的冬季羽绒外套商品" },
    }), 47003);

    await refusedWith(api.sendText(second, "before they wrote"), 45015);
    const opened = await fetch(url + "/_emulator/interactions", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ openid: second, kind: "message" }),
    });
    assert.equal(opened.status, 200);
    const text = await api.sendText(second, "thanks for writing");
    assert.equal(text.errcode, 0);

    const stats = await (await fetch(url + "/_emulator/stats")).json();
    assert.deepEqual(stats.deliveries_by_channel, { template: 1, custom: 1 });
    console.log("co-wechat-api 3.11.0: template and customer-service messages: ok");
  } finally {
    proc.kill();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
