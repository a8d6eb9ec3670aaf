// The wxmass dashboard: a few pages over the server's JSON API (/api/v1),
// signed in with the session cookie and its CSRF token. Everything it
// shows comes from the API, which checks every call; the pages hold no
// data of their own. Text from the server is set with textContent, never
// as HTML.
"use strict";

const WORDS = {
  en: {
    loading: "Loading…", campaigns: "Campaigns", sign_out: "Sign out", sign_in: "Sign in",
    name: "Name", password: "Password", signed_in_as: "Signed in as", state: "State",
    account: "Account", audience: "Audience", schedule: "Schedule", delivered: "Delivered",
    reads: "Readers", all_states: "All states", all_accounts: "All accounts", previous: "Previous",
    next: "Next", page: "Page", none: "No campaigns yet.", batches: "Batches", funnel: "Delivery",
    addressed: "Addressed", after_filtering: "After filtering", sent: "Sent", errors: "Errors",
    copyright: "Copyright check", articles: "Articles", reads_chart: "Readers and shares by day",
    not_pulled: "WeChat has no figures yet: they come after 08:00 Beijing time the day after the send.",
    test_send: "Test send", openid: "Tester's openid", submit: "Submit for approval",
    approve: "Approve and schedule", send_at: "Send at (Beijing time)", pause: "Pause",
    publish: "Publish without notifying", publishes: "Published without notifying",
    publish_waiting: "submitted; WeChat's report has not come yet",
    publish_now: "submitted", publish_again: "was submitted before: not again",
    resume: "Resume", cancel: "Cancel", back: "All campaigns", note: "Note", batch: "Batch",
    msg_id: "msg_id", status: "Status", readers: "Readers", shares: "Shares", done: "Done.",
    bad_sign_in: "Name or password is wrong.", audit: "Audit trail", who: "Who", what: "What",
    when: "When", all: "all followers", tag: "tag", list: "list", of: "of",
    by_account: "By account", n_accounts: "accounts", tagged: "every account tagged",
    not_started: "Its accounts' parts are made when it starts.", account_tags: "Tags (one per line)",
    save_tags: "Save tags",
    compose: "Compose", kind: "Message", text: "Text", article: "Article (Markdown)", picture: "Picture",
    campaign_id: "Id (letters, digits, - and _)", campaign_name: "Name", tag_id: "Tag id",
    saved_list: "Saved list", markdown: "Markdown", pictures: "Pictures it shows", cover: "Cover",
    preview: "Preview at phone width", create: "Save the draft", bytes_left: "bytes left of 2,048",
    uploaded: "uploaded", characters: "characters of 20,000",
    new_list: "Or upload a list (one openid a line)", new_list_name: "Its name",
    accounts: "Accounts", people: "People", quota_day: "left today of %l (one mass message a day)",
    authorise: "Authorise an account (third-party platform)", authorise_get: "Make an authorisation link",
    authorise_link: "Open WeChat's authorisation page", authorise_note: "Its admin scans the code there; the account then appears here with what it granted. The link is good once, for 10 minutes.",
    via_platform: "through the platform, sets", withdrawn: "withdrew its authorisation: nothing is sent for it",
    quota_month: "sends to all left this month of %l", resets: "returns", sends: "sends",
    users: "Users", role: "Role", new_user: "Add a user", new_token: "Make an API token",
    user: "User", label: "Label", token_once: "The token, shown this once:", detail: "Detail", older: "Older",
    unreported: "Sent, no report", unreported_note: "batch(es) sent with no report: not counted above",
    the_message: "The message, as it will be sent", sent_with_cli: "Sent with the CLI: shown here, run by its sender.",
    media_id: "Media id", card: "Card", video_title: "Title", file_name: "File",
    delete_draft: "Delete the draft", clone: "Copy as a new draft", clone_id: "The copy's id",
    retime: "Send at another time", save_draft: "Save the changes",
    target: "On what", tokens: "API tokens and sessions", revoke: "Revoke", disable: "Disable", enable: "Enable",
    remove: "Remove", reset_password: "Set a new password", new_password: "New password", current_password: "Current password",
    my_password: "My password", change_password: "Change my password", disabled: "disabled", session_word: "browser session",
    confirm_remove: "Remove this user for good? Their name stays in the audit trail.",
    testers: "Testers (test sends go to them only)", tester_openids: "Openids, one a line",
    tester_wechat_ids: "WeChat IDs, one a line", save_testers: "Save the testers", no_testers: "No testers yet: an admin names them on the Accounts page.",
    notice: "Template message (one by one)", template: "Template", link_url: "Opens this page (https://…, optional)",
    no_templates: "This account has no templates yet: add one with `wxmass templates add`.",
    via: "Send by", via_template: "Template message", via_auto: "Customer service where the follower's window is open, else template message",
    to_fill: "Still to fill in", custom_text: "Customer-service text", card_details: "View details", recipients: "Recipients", by_channel: "Sent by",
    failures: "Why some failed", reports: "WeChat's reports", download_failed: "Download the failures (CSV)",
    download_unknown: "Download the unknown (CSV)", resend_unknown: "Send the unknown again",
    resend_warning: "Their answers were lost: some of these followers may have the notice already and will get it twice. Send again?",
    r_planned: "Not sent yet", r_sending: "Sending", r_sent: "Sent", r_failed: "Failed", r_unknown: "Unknown (answer lost)",
    ch_template: "template message", ch_subscription: "subscription notice", ch_customer_service: "customer service",
    rep_delivered: "delivered", rep_user_block: "refused by the follower", rep_system_failed: "WeChat failed",
    rep_freq_limit: "too many for the follower", rep_other_failure: "failed", rep_none: "no report yet",
  },
  zh: {
    loading: "加载中…", campaigns: "群发活动", sign_out: "退出", sign_in: "登录",
    name: "用户名", password: "密码", signed_in_as: "当前用户", state: "状态",
    account: "公众号", audience: "对象", schedule: "发送时间", delivered: "送达",
    reads: "阅读人数", all_states: "全部状态", all_accounts: "全部公众号", previous: "上一页",
    next: "下一页", page: "页", none: "还没有群发活动。", batches: "批次", funnel: "送达情况",
    addressed: "目标人数", after_filtering: "过滤后", sent: "发送成功", errors: "失败",
    copyright: "原创校验", articles: "文章", reads_chart: "每日阅读与分享",
    not_pulled: "微信还没有数据：发送次日北京时间 08:00 后可查。",
    test_send: "预览", openid: "预览者 openid", submit: "提交审核",
    approve: "批准并定时", send_at: "发送时间（北京时间）", pause: "暂停",
    publish: "发布（不通知粉丝）", publishes: "已发布（不通知粉丝）",
    publish_waiting: "已提交，尚未收到微信的结果",
    publish_now: "已提交", publish_again: "此前已提交，未重复提交",
    resume: "继续", cancel: "取消", back: "全部活动", note: "备注", batch: "批次",
    msg_id: "msg_id", status: "状态", readers: "阅读人数", shares: "分享次数", done: "完成。",
    bad_sign_in: "用户名或密码错误。", audit: "操作记录", who: "操作人", what: "操作",
    when: "时间", all: "全部粉丝", tag: "标签", list: "名单", of: "/",
    by_account: "各账号", n_accounts: "个账号", tagged: "带此标签的全部账号：",
    not_started: "开始发送时为每个账号生成一份。", account_tags: "账号标签（每行一个）",
    save_tags: "保存标签",
    compose: "新建", kind: "消息类型", text: "文字", article: "图文（Markdown）", picture: "图片",
    campaign_id: "标识（字母、数字、- 和 _）", campaign_name: "名称", tag_id: "标签 id",
    saved_list: "已存名单", markdown: "Markdown", pictures: "文中图片", cover: "封面",
    preview: "手机预览", create: "保存草稿", bytes_left: "字节可用（共 2,048）",
    uploaded: "已上传", characters: "字符（上限 20,000）",
    new_list: "或上传名单（每行一个 openid）", new_list_name: "名单名称",
    accounts: "公众号", people: "成员", quota_day: "今日剩余（每日 %l 次群发）",
    authorise: "授权公众号（第三方平台）", authorise_get: "生成授权链接",
    authorise_link: "打开微信授权页", authorise_note: "由公众号管理员扫码授权，之后公众号及其授权的权限集会出现在这里。链接只能使用一次，10 分钟内有效。",
    via_platform: "经第三方平台，权限集", withdrawn: "已取消授权：不再为其发送",
    quota_month: "本月剩余群发给全部粉丝次数（每月 %l 次）", resets: "恢复于", sends: "次群发",
    users: "用户", role: "角色", new_user: "添加用户", new_token: "生成 API 令牌",
    user: "用户", label: "标签", token_once: "令牌仅显示这一次：", detail: "详情", older: "更早",
    unreported: "已发送、无报告", unreported_note: "个批次已发送但没有报告：未计入上面的数字",
    the_message: "消息内容（与发送时一致）", sent_with_cli: "由命令行发送：此处只显示，由发送者执行。",
    media_id: "素材 id", card: "卡券", video_title: "标题", file_name: "文件",
    delete_draft: "删除草稿", clone: "复制为新草稿", clone_id: "新草稿标识",
    retime: "改期发送", save_draft: "保存修改",
    target: "对象", tokens: "API 令牌与登录会话", revoke: "吊销", disable: "停用", enable: "启用",
    remove: "删除", reset_password: "设置新密码", new_password: "新密码", current_password: "当前密码",
    my_password: "我的密码", change_password: "修改我的密码", disabled: "已停用", session_word: "浏览器会话",
    confirm_remove: "永久删除此用户？其名字仍保留在操作记录中。",
    testers: "预览者（预览只发给他们）", tester_openids: "openid，每行一个",
    tester_wechat_ids: "微信号，每行一个", save_testers: "保存预览者", no_testers: "还没有预览者：管理员在“公众号”页添加。",
    notice: "模板消息（逐个发送）", template: "模板", link_url: "点击打开的网页（https://…，可不填）",
    no_templates: "该公众号还没有模板：用 `wxmass templates add` 添加。",
    via: "发送方式", via_template: "模板消息", via_auto: "粉丝会话窗口开着时发客服消息，否则发模板消息",
    to_fill: "尚待填写", custom_text: "客服消息文字", card_details: "详情", recipients: "发送对象", by_channel: "各渠道",
    failures: "失败原因", reports: "微信送达报告", download_failed: "下载失败名单（CSV）",
    download_unknown: "下载未知名单（CSV）", resend_unknown: "重发未知",
    resend_warning: "这些请求的应答丢失：其中一些粉丝可能已经收到，将会收到两次。确定重发？",
    r_planned: "待发送", r_sending: "发送中", r_sent: "已发送", r_failed: "失败", r_unknown: "未知（应答丢失）",
    ch_template: "模板消息", ch_subscription: "订阅通知", ch_customer_service: "客服消息",
    rep_delivered: "送达", rep_user_block: "用户拒收", rep_system_failed: "系统失败",
    rep_freq_limit: "频率限制", rep_other_failure: "失败", rep_none: "尚无报告",
  },
};

const STATES = ["draft", "awaiting_approval", "scheduled", "running", "paused", "finished", "cancelled", "failed"];
const STATE_WORDS = {
  en: { draft: "draft", awaiting_approval: "awaiting approval", scheduled: "scheduled", running: "running",
        paused: "paused", finished: "finished", cancelled: "cancelled", failed: "failed" },
  zh: { draft: "草稿", awaiting_approval: "待审核", scheduled: "已定时", running: "发送中",
        paused: "已暂停", finished: "已完成", cancelled: "已取消", failed: "失败" },
};
const PAGE = 20;

let lang = localStorage.getItem("wxmass.lang") || (navigator.language.startsWith("zh") ? "zh" : "en");
let session = null; // {name, role, csrf_token}
let refresh = null; // the timer that keeps the open page current
let flash = ""; // what the last action on a campaign did

function t(key) { return WORDS[lang][key] || WORDS.en[key] || key; }
function stateWord(s) { return STATE_WORDS[lang][s] || s; }
const ROLE_WORDS = {
  en: { admin: "admin", editor: "editor", approver: "approver", viewer: "viewer" },
  zh: { admin: "管理员", editor: "编辑", approver: "审核人", viewer: "只读" },
};
function roleWord(r) { return ROLE_WORDS[lang][r] || r; }
const BATCH_WORDS = { zh: { planned: "待发送", submitting: "发送中", submitted: "已提交" } };
function batchWord(s) { return (BATCH_WORDS[lang] || {})[s] || s; }
/// The server's error, led by what its code means in Chinese (the
/// server's own words follow: they name the field and the value).
const ERROR_WORDS = { zh: {
  unauthorized: "未登录或凭据无效", forbidden: "无权执行此操作", invalid: "输入有误", exists: "已存在",
  not_found: "未找到", wrong_state: "当前状态不允许此操作", quota: "群发额度不足", conflict: "仍在使用中",
  wechat: "微信拒绝了请求", too_large: "内容过大", too_many: "尝试过于频繁", unavailable: "服务暂不可用",
  internal: "服务器内部错误" } };

/// An element: el("td", {class: "n"}, "text", child, ...).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    const said = e.message || `HTTP ${status}`;
    const word = (ERROR_WORDS[lang] || {})[e.code];
    super(word ? `${word}：${said}` : said);
    this.status = status;
  }
}

async function api(method, path, body) {
  return (await request(method, path, body)).value;
}

/// One call: its JSON and the response (for headers such as X-Total-Count).
async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && session && session.csrf_token) headers["X-CSRF-Token"] = session.csrf_token;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const value = text ? JSON.parse(text) : null;
  if (response.status === 401 && path !== "/api/v1/session") {
    session = null;
    location.hash = "#/signin";
  }
  if (!response.ok) throw new ApiError(response.status, value);
  return { value, response };
}

/// What the session's role may do (the server checks it again).
function may(permission) {
  const role = session && session.role;
  if (role === "admin") return true;
  if (role === "editor") return permission === "read" || permission === "edit";
  if (role === "approver") return permission === "read" || permission === "send";
  return permission === "read";
}

function show(...nodes) {
  const main = document.getElementById("main");
  main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined));
}

function translateStatic() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  document.getElementById("lang").textContent = lang === "zh" ? "English" : "中文";
  const nav = document.getElementById("nav");
  nav.hidden = !session;
  document.getElementById("compose-link").hidden = !may("edit");
  for (const id of ["people-link", "audit-link"]) document.getElementById(id).hidden = !may("admin");
  document.getElementById("who").textContent = session ? `${t("signed_in_as")} ${session.name} (${roleWord(session.role)})` : "";
}

// ---- sign-in ----

function signInPage() {
  const message = el("p", { class: "error", role: "alert", id: "sign-in-error" });
  const form = el("form", { class: "card narrow", id: "sign-in", onsubmit: async (e) => {
    e.preventDefault();
    message.textContent = "";
    try {
      session = await api("POST", "/api/v1/session", {
        name: form.elements.name.value, password: form.elements.password.value,
      });
      location.hash = "#/campaigns";
      route();
    } catch (err) {
      message.textContent = err.status === 401 ? t("bad_sign_in") : err.message;
    }
  } },
    el("h1", {}, t("sign_in")),
    el("label", { for: "name" }, t("name")),
    el("input", { id: "name", name: "name", autocomplete: "username", required: true }),
    el("label", { for: "password" }, t("password")),
    el("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    el("button", { type: "submit" }, t("sign_in")),
    message);
  show(form);
  form.elements.name.focus();
}

// ---- campaigns ----

/// Unix seconds as YYYY-MM-DD HH:MM, Beijing time.
function beijing(unix) {
  return new Date((unix + 8 * 3600) * 1000).toISOString().replace("T", " ").slice(0, 16);
}

function audienceText(c) {
  const a = c.audience || {};
  if (a.kind === "all") return t("all");
  if (a.kind === "tag") return `${t("tag")} ${a.tag_id}`;
  return `${t("list")} ${c.list || ""}`;
}

/// A campaign's message as it will be sent (GET .../message): the text,
/// the pictures, each article at phone width in a sandboxed frame.
/// The account a campaign is for; across accounts, how many or its tag.
function accountText(c) {
  if (!c.accounts) return c.appid;
  return c.accounts.kind === "tagged" ? `${t("tagged")} ${c.accounts.tag}` : `${c.accounts.appids.length} ${t("n_accounts")}`;
}

function messageView(m) {
  const parts = [];
  if (m.text !== null) parts.push(el("p", { class: "message-text", id: "message-text" }, m.text));
  for (const src of m.pictures) parts.push(el("img", { class: "message-picture", src, alt: "" }));
  m.articles.forEach((a, i) => {
    const frame = el("iframe", { class: "message-article", id: `message-article-${i + 1}`, title: a.title || "", sandbox: "" });
    frame.srcdoc = a.html;
    parts.push(frame);
    if (a.problems.length) parts.push(el("ul", { class: "problems" }, ...a.problems.map((p) => el("li", {}, p))));
  });
  for (const [key, value] of [["video_title", m.title], ["detail", m.description], ["file_name", m.file], ["media_id", m.media_id], ["card", m.card_id]]) {
    if (value) parts.push(el("p", {}, `${t(key)}: ${value}`));
  }
  return el("div", { class: "message-shown", id: "message-shown" }, ...parts);
}

/// `delivered of addressed`, from reports only, and the batches sent
/// whose report never came, apart.
function deliveredText(c) {
  if (c.recipients) {
    // A notice: its recipients WeChat took, of all of them.
    const r = c.recipients;
    const all = r.planned + r.sending + r.sent + r.failed + r.unknown;
    return `${r.sent.toLocaleString()} ${t("of")} ${all.toLocaleString()}`;
  }
  const confirmed = `${c.delivered.toLocaleString()} ${t("of")} ${c.addressed.toLocaleString()}`;
  return c.unreported ? `${confirmed} · ${c.unreported} ${t("unreported_note")}` : confirmed;
}

/// Readers so far of a campaign's articles (the last pulled day of each).
function readersOf(reads) {
  let n = 0;
  for (const a of reads.articles) if (a.days.length) n += a.days[a.days.length - 1].readers;
  return n;
}

async function campaignsPage(query) {
  const params = new URLSearchParams(query);
  const state = params.get("state") || "";
  const account = params.get("account") || "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  // The server filters and pages: only this page's campaigns come.
  const asked = new URLSearchParams({ limit: String(PAGE), offset: String((page - 1) * PAGE) });
  if (state) asked.set("state", state);
  if (account) asked.set("appid", account);
  const [listed, accountList] = await Promise.all([
    request("GET", `/api/v1/campaigns?${asked}`), api("GET", "/api/v1/accounts"),
  ]);
  const rows = listed.value;
  const total = Number(listed.response.headers.get("X-Total-Count")) || rows.length;
  const accounts = accountList.map((a) => a.appid).sort();
  const go = (changes) => {
    const p = new URLSearchParams({ state, account, page: String(page), ...changes });
    for (const [k, v] of [...p]) if (!v) p.delete(k);
    location.hash = `#/campaigns?${p}`;
  };
  const filters = el("div", { class: "filters" },
    el("label", { for: "filter-state" }, t("state")),
    el("select", { id: "filter-state", onchange: (e) => go({ state: e.target.value, page: "1" }) },
      el("option", { value: "" }, t("all_states")),
      ...STATES.map((s) => el("option", { value: s, selected: s === state }, stateWord(s)))),
    el("label", { for: "filter-account" }, t("account")),
    el("select", { id: "filter-account", onchange: (e) => go({ account: e.target.value, page: "1" }) },
      el("option", { value: "" }, t("all_accounts")),
      ...accounts.map((a) => el("option", { value: a, selected: a === account }, a))));
  const body = el("tbody");
  for (const c of rows) {
    const readers = el("td", { class: "n", "data-label": t("reads") }, "–");
    body.append(el("tr", { "data-campaign": c.id },
      el("td", { "data-label": t("campaigns") }, el("a", { href: `#/campaigns/${encodeURIComponent(c.id)}` }, c.name)),
      el("td", { "data-label": t("state") }, el("span", { class: `state ${c.state}` }, stateWord(c.state))),
      el("td", { "data-label": t("account") }, accountText(c)),
      el("td", { "data-label": t("audience") }, audienceText(c)),
      el("td", { "data-label": t("schedule") }, c.send_at ? c.send_at.replace("T", " ").slice(0, 16) : "–"),
      el("td", { class: "n delivered", "data-label": t("delivered") }, deliveredText(c)),
      readers));
    if (c.state === "finished") {
      api("GET", `/api/v1/campaigns/${encodeURIComponent(c.id)}/reads`)
        .then((r) => { if (r.pulled_on) readers.textContent = readersOf(r).toLocaleString(); })
        .catch(() => {});
    }
  }
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const pager = el("div", { class: "pager" },
    el("button", { type: "button", disabled: page <= 1, onclick: () => go({ page: String(page - 1) }) }, t("previous")),
    el("span", {}, `${t("page")} ${page} / ${pages}`),
    el("button", { type: "button", disabled: page >= pages, onclick: () => go({ page: String(page + 1) }) }, t("next")));
  const table = el("table", { id: "campaigns" },
    el("thead", {}, el("tr", {}, ...["campaigns", "state", "account", "audience", "schedule", "delivered", "reads"]
      .map((k) => el("th", { scope: "col" }, t(k))))),
    body);
  show(el("h1", {}, t("campaigns")), filters, rows.length ? table : el("p", {}, t("none")), pager);
  // Running and scheduled campaigns change by themselves.
  if (rows.some((c) => ["scheduled", "running"].includes(c.state))) refresh = setTimeout(route, 2000);
}

/// A line chart of readers and shares so far, one line each per article,
/// drawn as SVG (no library, nothing fetched).
function readsChart(reads) {
  const W = 640, H = 240, L = 48, B = 28, R = 12, T = 12;
  const dates = [...new Set(reads.articles.flatMap((a) => a.days.map((d) => d.date)))].sort();
  const series = [];
  reads.articles.forEach((a, i) => {
    const by = Object.fromEntries(a.days.map((d) => [d.date, d]));
    // Each line its own colour (and shares dashed too), so that no two
    // lines of an article read as one.
    series.push({ name: `${a.index}. ${t("readers")}`, cls: `s${(2 * i) % 4} readers`, values: dates.map((d) => (by[d] ? by[d].readers : 0)) });
    series.push({ name: `${a.index}. ${t("shares")}`, cls: `s${(2 * i + 1) % 4} shares`, values: dates.map((d) => (by[d] ? by[d].shares : 0)) });
  });
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i) => L + (dates.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (dates.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("id", "reads-chart");
  svg.setAttribute("aria-label", t("reads_chart"));
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  for (const v of [0, max / 2, max]) {
    add("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" });
    add("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, Math.round(v).toLocaleString());
  }
  // The first and last dates are anchored inside the chart, not cut at its edges.
  const anchor = (i) => (dates.length === 1 ? "middle" : i === 0 ? "start" : i === dates.length - 1 ? "end" : "middle");
  dates.forEach((d, i) => add("text", { x: x(i), y: H - 8, "text-anchor": anchor(i), class: "axis" }, d.slice(5)));
  for (const s of series) {
    const points = s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
    add("polyline", { points, class: `line ${s.cls}` }).append(Object.assign(document.createElementNS(ns, "title"), { textContent: s.name }));
    s.values.forEach((v, i) => add("circle", { cx: x(i), cy: y(v), r: 3, class: `dot ${s.cls}` }));
  }
  const legend = el("ul", { class: "legend" }, ...series.map((s) => el("li", { class: s.cls }, s.name)));
  return el("figure", {}, svg, legend);
}

async function campaignPage(id) {
  const path = `/api/v1/campaigns/${encodeURIComponent(id)}`;
  const [c, batches, reads, shown, allPublishes] = await Promise.all([
    api("GET", path), api("GET", `${path}/batches`), api("GET", `${path}/reads`), api("GET", `${path}/message`),
    api("GET", "/api/v1/publishes"),
  ]);
  const publishes = allPublishes.filter((p) => p.campaign === id && p.appid === c.appid);
  // Across accounts: each account's part, with its own figures.
  const parts = c.accounts ? await api("GET", `${path}/accounts`) : null;
  // A notice's recipients added up, and its template as WeChat shows it.
  const notice = c.content.type === "notice";
  const tally = notice ? await api("GET", `${path}/recipients`) : null;
  const template = notice && c.content.template
    ? (await api("GET", `/api/v1/accounts/${encodeURIComponent(c.appid)}/templates`).catch(() => []))
      .find((x) => x.template_id === c.content.template.template_id)
    : null;
  // The figures are the server's summary (reports only); batches sent
  // without a report are shown apart, never added in.
  const funnel = { addressed: c.addressed, after_filtering: c.after_filtering, sent: c.delivered, errors: c.errors };
  const urls = new Set();
  let check = null;
  for (const b of batches) {
    if (!b.report) continue;
    if (b.report.check_state !== null) check = b.report.check_state;
    for (const u of b.report.article_urls) urls.add(u);
  }
  // What the last action did, kept across the page being drawn again.
  const message = el("p", { class: "message", role: "status", id: "action-message" }, flash);
  flash = "";
  const act = async (label, call) => {
    message.textContent = "";
    try { await call(); flash = `${label}: ${t("done")}`; await route(); }
    catch (err) { message.textContent = `${label}: ${err.message}`; }
  };
  const actions = el("div", { class: "actions", id: "actions" });
  // A campaign sent with the CLI is its sender's: no action here.
  const managed = c.created_by !== null;
  const before = managed && ["draft", "awaiting_approval", "scheduled", "paused"].includes(c.state);
  if (may("edit") && before) {
    // The account's testers, offered as the input's choices (across
    // accounts: a tester of any of them).
    const testers = c.accounts ? { openids: [] }
      : await api("GET", `/api/v1/accounts/${encodeURIComponent(c.appid)}/testers`).catch(() => ({ openids: [] }));
    const choices = el("datalist", { id: "testers" }, ...testers.openids.map((o) => el("option", { value: o })));
    actions.append(choices);
    const openid = el("input", { id: "test-openid", autocomplete: "off", list: "testers" });
    actions.append(el("form", { class: "inline", onsubmit: (e) => { e.preventDefault();
      act(t("test_send"), () => api("POST", `${path}/test`, { openid: openid.value })); } },
      el("label", { for: "test-openid" }, t("openid")), openid,
      el("button", { type: "submit", id: "test-send" }, t("test_send"))));
  }
  if (may("edit") && c.state === "draft") {
    actions.append(el("button", { type: "button", id: "submit", onclick: () => act(t("submit"), () => api("POST", `${path}/submit`)) }, t("submit")));
  }
  if (may("send") && c.state === "awaiting_approval") {
    const at = el("input", { id: "send-at", type: "datetime-local", required: true });
    actions.append(el("form", { class: "inline", onsubmit: (e) => { e.preventDefault();
      act(t("approve"), () => api("POST", `${path}/approve`, { send_at: `${at.value}:00+08:00` })); } },
      el("label", { for: "send-at" }, t("send_at")), at,
      el("button", { type: "submit", id: "approve" }, t("approve"))));
  }
  for (const [step, states] of [["pause", ["scheduled", "running"]], ["resume", ["paused"]], ["cancel", ["draft", "awaiting_approval", "scheduled", "paused"]]]) {
    if (managed && may("send") && states.includes(c.state)) {
      actions.append(el("button", { type: "button", id: step, onclick: () => act(t(step), () => api("POST", `${path}/${step}`)) }, t(step)));
    }
  }
  if (managed && may("edit") && c.state === "draft") {
    // The draft's name, and a text message's text, edited in place.
    const newName = el("input", { id: "edit-name", value: c.name, required: true, maxlength: 100 });
    const newText = c.content.type === "text" ? el("textarea", { id: "edit-text", rows: 4 }, c.content.text) : null;
    actions.append(el("form", { class: "inline", id: "edit-draft", onsubmit: (e) => { e.preventDefault();
      const content = newText ? { type: "text", text: newText.value } : c.content;
      act(t("save_draft"), () => api("PUT", path, { name: newName.value, content, audience: c.audience,
        list: c.list, batch_size: c.batch_size })); } },
      el("label", { for: "edit-name" }, t("campaign_name")), newName,
      newText ? el("label", { for: "edit-text" }, t("text")) : null, newText,
      el("button", { type: "submit", id: "save-draft" }, t("save_draft"))));
    actions.append(el("button", { type: "button", id: "delete-draft", onclick: async () => {
      try { await api("DELETE", path); location.hash = "#/campaigns"; }
      catch (err) { message.textContent = `${t("delete_draft")}: ${err.message}`; } } }, t("delete_draft")));
  }
  if (may("edit")) {
    const copyId = el("input", { id: "clone-id", autocomplete: "off", required: true });
    actions.append(el("form", { class: "inline", onsubmit: async (e) => { e.preventDefault();
      try { const made = await api("POST", `${path}/clone`, { id: copyId.value }); location.hash = `#/campaigns/${encodeURIComponent(made.id)}`; }
      catch (err) { message.textContent = `${t("clone")}: ${err.message}`; } } },
      el("label", { for: "clone-id" }, t("clone_id")), copyId,
      el("button", { type: "submit", id: "clone" }, t("clone"))));
  }
  if (managed && may("send") && ["scheduled", "paused"].includes(c.state)) {
    const at = el("input", { id: "retime-at", type: "datetime-local", required: true });
    actions.append(el("form", { class: "inline", onsubmit: (e) => { e.preventDefault();
      act(t("retime"), () => api("POST", `${path}/reschedule`, { send_at: `${at.value}:00+08:00` })); } },
      el("label", { for: "retime-at" }, t("send_at")), at,
      el("button", { type: "submit", id: "retime" }, t("retime"))));
  }
  if (may("send") && c.content.type === "articles") {
    // Free publishing: the server submits these articles once, however
    // often this is pressed; the list below shows what WeChat said.
    actions.append(el("button", { type: "button", id: "publish", onclick: async () => {
      message.textContent = "";
      try {
        const r = await api("POST", "/api/v1/publishes", { appid: c.appid, name: c.id, content: c.content });
        flash = `${t("publish")}: publish ${r.publish.publish_id} ${t(r.submitted_now ? "publish_now" : "publish_again")}`;
        await route();
      } catch (err) { message.textContent = `${t("publish")}: ${err.message}`; } } }, t("publish")));
  }
  const publishList = el("ul", { id: "publishes" }, ...publishes.map((p) => el("li", {},
    `publish ${p.publish_id}: ${p.status ?? t("publish_waiting")}`,
    ...p.article_urls.map((u) => el("span", {}, " ", el("a", { href: u, rel: "noreferrer" }, u))))));
  const batchRows = batches.map((b) => el("tr", {},
    el("td", { class: "n", "data-label": t("batch") }, b.index + 1),
    el("td", { class: "n", "data-label": t("msg_id") }, b.msg_id ?? "–"),
    el("td", { "data-label": t("state") }, batchWord(b.state)),
    el("td", { "data-label": t("status") }, b.status ?? "–"),
    el("td", { class: "n", "data-label": t("sent") }, b.report ? b.report.sent.toLocaleString() : "–")));
  const figure = (label, value, id) => el("div", {}, el("dt", {}, label), el("dd", { id }, value));
  const funnelList = el("dl", { class: "funnel", id: "funnel" },
    ...["addressed", "after_filtering", "sent", "errors"].map((k) => figure(t(k), funnel[k].toLocaleString(), `funnel-${k}`)),
    figure(t("unreported"), c.unreported ? `${c.unreported.toLocaleString()}${c.unreported_openids ? ` (${c.unreported_openids.toLocaleString()} openids)` : ""}` : "0", "funnel-unreported"),
    figure(t("copyright"), check === null ? "–" : String(check), "copyright-check"));
  const recipientSections = [];
  if (tally) {
    const r = tally.by_state;
    const channels = Object.entries(tally.sent_by_channel).map(([ch, n]) => `${t(`ch_${ch}`)} ${n.toLocaleString()}`);
    const reports = Object.entries(tally.reported).map(([k, n]) => `${t(`rep_${k}`)} ${n.toLocaleString()}`);
    const downloads = el("p", { class: "downloads" },
      el("a", { id: "download-failed", href: `${path}/recipients.csv?state=failed`, download: `${c.id}-failed.csv` }, t("download_failed")));
    if (r.unknown) {
      downloads.append(" · ", el("a", { id: "download-unknown", href: `${path}/recipients.csv?state=unknown`, download: `${c.id}-unknown.csv` }, t("download_unknown")));
      if (managed && may("send") && c.state === "finished") {
        // Never by itself: some of them may have it already.
        downloads.append(" ", el("button", { type: "button", id: "resend-unknown", onclick: () => {
          if (confirm(t("resend_warning"))) act(t("resend_unknown"), () => api("POST", `${path}/resend-unknown`));
        } }, t("resend_unknown")));
      }
    }
    recipientSections.push(
      el("h2", {}, t("recipients")),
      el("dl", { class: "funnel", id: "recipients" },
        ...["planned", "sending", "sent", "failed", "unknown"].map((k) => figure(t(`r_${k}`), r[k].toLocaleString(), `recipients-${k}`))),
      el("p", { id: "by-channel" }, `${t("by_channel")}: ${channels.join(" · ") || "–"}`),
      reports.length ? el("p", { id: "reports" }, `${t("reports")}: ${reports.join(" · ")}`) : null,
      tally.failed.length ? el("h3", {}, t("failures")) : null,
      tally.failed.length ? el("ul", { id: "failures" }, ...tally.failed.map((f) =>
        el("li", {}, `${f.errcode ? `${f.errcode} ` : ""}${f.meaning}: ${f.recipients.toLocaleString()}`))) : null,
      downloads);
  }
  const sections = [
    el("p", {}, el("a", { href: "#/campaigns" }, `← ${t("back")}`)),
    el("h1", {}, c.name, " ", el("span", { class: `state ${c.state}`, id: "campaign-state" }, stateWord(c.state))),
    el("p", { class: "meta" }, `${accountText(c)} · ${audienceText(c)} · ${c.send_at ? c.send_at.replace("T", " ").slice(0, 16) : "–"}`),
    c.part_of ? el("p", {}, el("a", { href: `#/campaigns/${encodeURIComponent(c.part_of)}`, id: "part-of" }, `↑ ${c.part_of}`)) : null,
    c.note ? el("p", { class: "note" }, `${t("note")}: ${c.note}`) : null,
    managed ? null : el("p", { class: "note", id: "sent-with-cli" }, t("sent_with_cli")),
    actions, message,
    el("h2", {}, t("the_message")), messageView(shown),
    template ? el("div", { class: "card-box" },
      templateCard(template, c.content.template.data, Boolean(c.content.template.url || c.content.template.miniprogram))) : null,
    publishes.length ? el("h2", {}, t("publishes")) : null, publishes.length ? publishList : null,
    ...recipientSections,
    notice ? null : el("h2", {}, t("funnel")), notice ? null : funnelList,
    urls.size ? el("h2", {}, t("articles")) : null,
    urls.size ? el("ul", {}, ...[...urls].map((u) => el("li", {}, el("a", { href: u, rel: "noreferrer" }, u)))) : null,
    notice ? null : el("h2", {}, t("reads_chart")),
    notice ? null : reads.pulled_on && reads.articles.length ? readsChart(reads) : el("p", {}, t("not_pulled")),
    parts ? el("h2", {}, t("by_account")) : null,
    parts && !parts.length ? el("p", {}, t("not_started")) : null,
    parts && parts.length ? el("table", { id: "by-account" },
      el("thead", {}, el("tr", {}, ...["account", "state", "audience", "delivered", "note"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, ...parts.map((p) => el("tr", { "data-appid": p.appid },
        el("td", { "data-label": t("account") }, el("a", { href: `#/campaigns/${encodeURIComponent(p.id)}` }, p.appid)),
        el("td", { "data-label": t("state") }, el("span", { class: `state ${p.state}` }, stateWord(p.state))),
        el("td", { class: "n", "data-label": t("audience") }, p.audience_size.toLocaleString()),
        el("td", { class: "n delivered", "data-label": t("delivered") }, deliveredText(p)),
        el("td", { "data-label": t("note") }, p.note))))) : null,
    notice || parts ? null : el("h2", {}, t("batches")),
    notice || parts ? null : el("table", { id: "batches" },
      el("thead", {}, el("tr", {}, ...["batch", "msg_id", "state", "status", "sent"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, ...batchRows)),
  ];
  if (may("admin")) {
    const entries = await api("GET", "/api/v1/audit?limit=500").catch(() => []);
    sections.push(el("h2", {}, t("audit")), el("table", { id: "audit" },
      el("thead", {}, el("tr", {}, ...["when", "who", "what"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, ...entries.filter((e) => e.target === id).map((e) => el("tr", {},
        el("td", { "data-label": t("when") }, beijing(e.at)),
        el("td", { "data-label": t("who") }, e.actor),
        el("td", { "data-label": t("what") }, e.action))))));
  }
  show(...sections.filter(Boolean));
  // Until every template message sent has its report.
  const awaitingReports = tally && c.state === "finished" && (tally.reported.none || 0) > 0;
  if (["scheduled", "running"].includes(c.state) || (c.state === "finished" && c.reported < c.submitted) || awaitingReports
      || publishes.some((p) => p.status === null)) {
    refresh = setTimeout(route, 1000);
  }
}

/// Each keyword's label in a template's text (`商品名称：{{thing1.DATA}}`
/// labels thing1 商品名称), by key.
function templateLabels(template) {
  const labels = {};
  for (const line of template.content.split("\n")) {
    const m = line.trim().match(/^(.*?)[：:]?\s*\{\{(\w+)\.DATA\}\}$/);
    if (m) labels[m[2]] = m[1];
  }
  return labels;
}

/// A template message as WeChat shows it: the template's title, each line
/// of its text with the keyword's value in place, and "View details" when
/// it opens a page. Values are set as text, never as HTML.
function templateCard(template, data, opens) {
  const lines = template.content.split("\n").map((l) => l.trim()).filter(Boolean).map((line) => {
    const m = line.match(/^(.*?)[：:]?\s*\{\{(\w+)\.DATA\}\}$/);
    if (m) {
      return el("div", { class: "card-line" }, el("span", { class: "card-label" }, m[1]),
        el("span", { class: "card-value", "data-key": m[2] }, data[m[2]] || ""));
    }
    return el("div", { class: "card-line" }, line.replace(/\{\{(\w+)\.DATA\}\}/g, (_, k) => data[k] || ""));
  });
  return el("div", { class: "template-card", id: "template-card", role: "img", "aria-label": template.title },
    el("div", { class: "card-title" }, template.title || template.template_id),
    ...lines,
    opens ? el("div", { class: "card-footer" }, el("span", {}, t("card_details")), el("span", {}, "›")) : null);
}


// ---- compose ----

/// Uploads a chosen file (POST /api/v1/files) and answers its reference.
async function uploadFile(file) {
  const headers = { "Content-Type": "application/octet-stream" };
  if (session && session.csrf_token) headers["X-CSRF-Token"] = session.csrf_token;
  const response = await fetch(`/api/v1/files?name=${encodeURIComponent(file.name)}`, {
    method: "POST", headers, credentials: "same-origin", body: file,
  });
  const value = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, value);
  // The reference a campaign's content names the file by.
  return { path: value.path, sha256: value.sha256 };
}

async function composePage() {
  const accounts = await api("GET", "/api/v1/accounts");
  const lists = await api("GET", "/api/v1/lists").catch(() => []);
  const uploads = { pictures: [], cover: null, images: [] };
  const message = el("p", { class: "error", role: "alert", id: "compose-error" });
  const field = (id, label, input) => el("div", { class: "field" }, el("label", { for: id }, label), input);
  const kind = el("select", { id: "kind" },
    el("option", { value: "articles" }, t("article")), el("option", { value: "text" }, t("text")),
    el("option", { value: "images" }, t("picture")), el("option", { value: "notice" }, t("notice")));
  const audience = el("select", { id: "audience" },
    el("option", { value: "all" }, t("all")), el("option", { value: "tag" }, t("tag")),
    el("option", { value: "openids" }, t("saved_list")));
  const tagId = el("input", { id: "tag-id", inputmode: "numeric", value: "100" });
  const listName = el("select", { id: "list-name" }, ...lists.map((l) => el("option", { value: l.name }, `${l.name} (${l.distinct})`)));
  // A new list: one openid a line, saved by name (PUT /api/v1/lists/{name}).
  const newListName = el("input", { id: "new-list-name", autocomplete: "off" });
  const newList = el("input", { id: "new-list", type: "file", accept: "text/plain,.txt,.csv" });
  const listInfo = el("p", { class: "hint", id: "list-info", "aria-live": "polite" });
  newList.addEventListener("change", async () => {
    const name = newListName.value || newList.files[0].name.replace(/\.[^.]*$/, "");
    const headers = { "Content-Type": "text/plain" };
    if (session && session.csrf_token) headers["X-CSRF-Token"] = session.csrf_token;
    const response = await fetch(`/api/v1/lists/${encodeURIComponent(name)}`, {
      method: "PUT", headers, credentials: "same-origin", body: newList.files[0] });
    const answer = await response.json().catch(() => null);
    if (!response.ok) { listInfo.textContent = new ApiError(response.status, answer).message; listInfo.className = "error"; return; }
    listName.append(el("option", { value: answer.name, selected: true }, `${answer.name} (${answer.distinct})`));
    listInfo.textContent = `${answer.name}: ${answer.distinct.toLocaleString()} openids ✓`;
    listInfo.className = "hint";
  });
  const text = el("textarea", { id: "text", rows: 6 });
  const textInfo = el("p", { class: "hint", id: "text-info", "aria-live": "polite" });
  const markdown = el("textarea", { id: "markdown", rows: 14, spellcheck: "false" },
    "---\ntitle: \ncover: cover.png\n---\n\n");
  const problems = el("ul", { class: "problems", id: "problems", "aria-live": "polite" });
  const info = el("p", { class: "hint", id: "preview-info" });
  const frame = el("iframe", { id: "preview", title: t("preview"), sandbox: "" });
  const pictures = el("input", { id: "pictures", type: "file", multiple: true, accept: "image/png,image/jpeg,image/gif" });
  const cover = el("input", { id: "cover", type: "file", accept: "image/png,image/jpeg" });
  const image = el("input", { id: "image", type: "file", accept: "image/png,image/jpeg,image/gif,image/bmp" });
  const uploaded = el("p", { class: "hint", id: "uploaded" });
  const showUploads = () => {
    uploaded.textContent = [...uploads.pictures.map((p) => p.src), ...(uploads.cover ? [uploads.cover.path] : []),
      ...uploads.images.map((f) => f.path)].map((n) => `${n} ✓`).join("  ");
  };
  let timer = null;
  const preview = async () => {
    const answer = await api("POST", "/api/v1/articles/preview", {
      markdown: markdown.value, pictures: uploads.pictures, cover: uploads.cover,
    });
    problems.replaceChildren(...answer.problems.map((p) => el("li", {}, p)));
    info.textContent = `${answer.characters.toLocaleString()} ${t("characters")}`;
    frame.srcdoc = answer.html;
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(() => preview().catch((e) => { message.textContent = e.message; }), 300); };
  markdown.addEventListener("input", later);
  const bytes = (s) => new TextEncoder().encode(s).length;
  // The server checks the text as creating the campaign would (the CLI's
  // words); the count of bytes left is shown meanwhile.
  let textTimer = null;
  text.addEventListener("input", () => {
    const n = bytes(text.value);
    textInfo.textContent = `${(2048 - n).toLocaleString()} ${t("bytes_left")}`;
    textInfo.className = "hint";
    clearTimeout(textTimer);
    textTimer = setTimeout(async () => {
      const answer = await api("POST", "/api/v1/content/check", { type: "text", text: text.value }).catch(() => null);
      if (answer && answer.problem) { textInfo.textContent = answer.problem; textInfo.className = "error"; }
    }, 300);
  });
  pictures.addEventListener("change", async () => {
    for (const f of pictures.files) {
      try { uploads.pictures = uploads.pictures.filter((p) => p.src !== f.name).concat([{ src: f.name, file: await uploadFile(f) }]); }
      catch (e) { message.textContent = `${f.name}: ${e.message}`; }
    }
    showUploads(); later();
  });
  cover.addEventListener("change", async () => {
    try { uploads.cover = await uploadFile(cover.files[0]); } catch (e) { message.textContent = e.message; }
    showUploads(); later();
  });
  const imageInfo = el("p", { class: "hint", id: "image-info", "aria-live": "polite" });
  image.addEventListener("change", async () => {
    try { uploads.images = [await uploadFile(image.files[0])]; } catch (e) { message.textContent = e.message; }
    showUploads();
    // Checked for a mass-sent picture as creating the campaign would.
    const answer = await api("POST", "/api/v1/content/check", { type: "images", files: uploads.images }).catch(() => null);
    imageInfo.textContent = answer && answer.problem ? answer.problem : "";
    imageInfo.className = answer && answer.problem ? "error" : "hint";
  });
  // A template message, sent follower by follower: the account's
  // templates to pick from, an input for each keyword the picked one
  // takes, each value checked as it is typed (the server's check, the
  // CLI's words), and the card as WeChat draws it.
  const templateSelect = el("select", { id: "template" });
  const keywords = el("div", { class: "grid", id: "keywords" });
  const noticeUrl = el("input", { id: "notice-url", type: "url", autocomplete: "off" });
  const via = el("select", { id: "via" },
    el("option", { value: "template" }, t("via_template")), el("option", { value: "auto" }, t("via_auto")));
  const customText = el("textarea", { id: "custom-text", rows: 3 });
  const customBox = el("div", { hidden: true }, field("custom-text", t("custom_text"), customText));
  const noticeInfo = el("p", { class: "hint", id: "notice-info", "aria-live": "polite" });
  const cardBox = el("div", { class: "card-box" });
  let templates = [];
  const chosen = () => templates.find((x) => x.template_id === templateSelect.value);
  const noticeData = () => Object.fromEntries([...keywords.querySelectorAll("input")].map((i) => [i.dataset.key, i.value]));
  const noticeContent = () => ({
    type: "notice", via: via.value === "auto" ? ["customer_service", "template"] : ["template"],
    template: { template_id: templateSelect.value, data: noticeData(), ...(noticeUrl.value ? { url: noticeUrl.value } : {}) },
    ...(via.value === "auto" ? { custom_text: customText.value } : {}),
  });
  let noticeTimer = null;
  const noticeChanged = () => {
    const picked = chosen();
    cardBox.replaceChildren(picked ? templateCard(picked, noticeData(), Boolean(noticeUrl.value)) : "");
    customBox.hidden = via.value !== "auto";
    clearTimeout(noticeTimer);
    if (!picked) return;
    noticeTimer = setTimeout(async () => {
      // What is typed so far is checked; keywords still empty are named
      // apart, not as problems.
      const content = noticeContent();
      const empty = Object.keys(content.template.data).filter((k) => !content.template.data[k]);
      for (const k of empty) delete content.template.data[k];
      const answer = !Object.keys(content.template.data).length ? { problem: null }
        : await api("POST", "/api/v1/content/check", content).catch((e) => ({ problem: e.message }));
      noticeInfo.textContent = answer.problem || (empty.length ? `${t("to_fill")}: ${empty.join(", ")}` : "✓");
      noticeInfo.className = answer.problem ? "error" : "hint";
    }, 300);
  };
  const showKeywords = () => {
    const picked = chosen();
    const labels = picked ? templateLabels(picked) : {};
    keywords.replaceChildren(...(picked ? picked.keys : []).map((key) => {
      const input = el("input", { id: `kw-${key}`, "data-key": key, autocomplete: "off" });
      input.addEventListener("input", noticeChanged);
      return field(`kw-${key}`, `${labels[key] || key} (${key})`, input);
    }));
    noticeChanged();
  };
  const loadTemplates = async () => {
    templates = await api("GET", `/api/v1/accounts/${encodeURIComponent(account.value)}/templates`)
      .catch((e) => { noticeInfo.textContent = e.message; noticeInfo.className = "error"; return []; });
    templateSelect.replaceChildren(...templates.map((x) => el("option", { value: x.template_id }, `${x.title} (${x.template_id})`)));
    if (!templates.length && !noticeInfo.textContent) { noticeInfo.textContent = t("no_templates"); noticeInfo.className = "hint"; }
    showKeywords();
  };
  templateSelect.addEventListener("change", showKeywords);
  for (const input of [noticeUrl, customText]) input.addEventListener("input", noticeChanged);
  via.addEventListener("change", noticeChanged);
  const id = el("input", { id: "campaign-id", required: true, pattern: "[A-Za-z0-9_-]{1,64}", autocomplete: "off" });
  const name = el("input", { id: "campaign-name", required: true });
  // One account, or every account with a tag (a campaign across accounts).
  const tags = [...new Set(accounts.flatMap((a) => a.tags || []))].sort();
  const account = el("select", { id: "account" }, ...accounts.map((a) => el("option", { value: a.appid }, `${a.name} (${a.appid})`)),
    ...tags.map((tag) => el("option", { value: `tag:${tag}` }, `${t("tagged")} ${tag}`)));
  const parts = {
    text: el("div", {}, field("text", t("text"), text), textInfo),
    articles: el("div", { class: "compose-article" },
      el("div", {}, field("markdown", t("markdown"), markdown), field("cover", t("cover"), cover),
        field("pictures", t("pictures"), pictures), problems, info),
      el("div", {}, el("p", { class: "hint" }, t("preview")), frame)),
    images: el("div", {}, field("image", t("picture"), image), imageInfo),
    notice: el("div", { class: "compose-article" },
      el("div", {}, field("template", t("template"), templateSelect), keywords, field("notice-url", t("link_url"), noticeUrl),
        field("via", t("via"), via), customBox, noticeInfo),
      el("div", {}, el("p", { class: "hint" }, t("preview")), cardBox)),
  };
  const body = el("div", {});
  const showKind = () => {
    body.replaceChildren(parts[kind.value], uploaded);
    if (kind.value === "articles") later();
    if (kind.value === "notice") loadTemplates();
  };
  account.addEventListener("change", () => { if (kind.value === "notice") loadTemplates(); });
  kind.addEventListener("change", showKind);
  const audienceBox = el("div", { class: "inline" });
  const showAudience = () => audienceBox.replaceChildren(...(audience.value === "tag" ? [field("tag-id", t("tag_id"), tagId)]
    : audience.value === "openids" ? [field("list-name", t("saved_list"), listName),
        field("new-list-name", t("new_list_name"), newListName), field("new-list", t("new_list"), newList), listInfo] : []));
  audience.addEventListener("change", showAudience);
  const form = el("form", { id: "compose", onsubmit: async (e) => {
    e.preventDefault();
    message.textContent = "";
    const content = kind.value === "text" ? { type: "text", text: text.value }
      : kind.value === "images" ? { type: "images", files: uploads.images }
      : kind.value === "notice" ? noticeContent()
      : { type: "articles", draft: false, theme: null, fetch_remote_images: false, ignore_reprint: false,
          articles: [{ file: await uploadFile(new File([markdown.value], "article.md")), cover: uploads.cover, pictures: uploads.pictures }] };
    const who = audience.value === "tag" ? { kind: "tag", tag_id: Number(tagId.value) } : { kind: audience.value };
    try {
      const target = account.value.startsWith("tag:")
        ? { accounts: { kind: "tagged", tag: account.value.slice(4) } } : { appid: account.value };
      await api("POST", "/api/v1/campaigns", { id: id.value, ...target, name: name.value, content, audience: who,
        ...(audience.value === "openids" ? { list: listName.value } : {}) });
      location.hash = `#/campaigns/${encodeURIComponent(id.value)}`;
    } catch (err) {
      message.textContent = err.message;
    }
  } },
    el("h1", {}, t("compose")),
    el("div", { class: "grid" }, field("campaign-id", t("campaign_id"), id), field("campaign-name", t("campaign_name"), name),
      field("account", t("account"), account), field("kind", t("kind"), kind), field("audience", t("audience"), audience)),
    audienceBox, body, message,
    el("button", { type: "submit", id: "create" }, t("create")));
  show(form);
  showKind(); showAudience();
}


// ---- accounts, people, audit ----

async function accountsPage() {
  const accounts = await api("GET", "/api/v1/accounts");
  const cards = [];
  for (const a of accounts) {
    const q = await api("GET", `/api/v1/accounts/${encodeURIComponent(a.appid)}/quota`);
    const words = t(q.period === "day" ? "quota_day" : "quota_month").replace("%l", q.limit);
    const calendar = el("ol", { class: "calendar", "aria-label": `${a.name}: ${t("sends")}` },
      ...q.days.map((d) => el("li", { class: d.sends ? "sent" : "" },
        el("span", { class: "date" }, d.date.slice(8)), el("span", { class: "n" }, d.sends ? `${d.sends}` : "·"))));
    const testersPath = `/api/v1/accounts/${encodeURIComponent(a.appid)}/testers`;
    const testers = await api("GET", testersPath);
    const lines = (v) => v.split("\n").map((l) => l.trim()).filter(Boolean);
    const openids = el("textarea", { id: `testers-openids-${a.appid}`, rows: 3 }, testers.openids.join("\n"));
    const wechatIds = el("textarea", { id: `testers-wechat-${a.appid}`, rows: 2 }, testers.wechat_ids.join("\n"));
    const said = el("p", { class: "message", role: "status" });
    const testerForm = may("admin") ? el("form", { class: "testers", onsubmit: async (e) => {
      e.preventDefault();
      try { await api("PUT", testersPath, { openids: lines(openids.value), wechat_ids: lines(wechatIds.value) }); said.textContent = t("done"); }
      catch (err) { said.textContent = err.message; }
    } },
      el("label", { for: openids.id }, t("tester_openids")), openids,
      el("label", { for: wechatIds.id }, t("tester_wechat_ids")), wechatIds,
      el("button", { type: "submit" }, t("save_testers")), said)
      : el("p", { class: "meta" }, [...testers.openids, ...testers.wechat_ids].join(" · ") || t("no_testers"));
    const tagsBox = el("textarea", { id: `tags-${a.appid}`, rows: 2 }, (a.tags || []).join("\n"));
    const tagsSaid = el("p", { class: "message", role: "status" });
    const tagsForm = may("admin") ? el("form", { class: "tags", onsubmit: async (e) => {
      e.preventDefault();
      try { await api("PUT", `/api/v1/accounts/${encodeURIComponent(a.appid)}/tags`, { tags: lines(tagsBox.value) }); tagsSaid.textContent = t("done"); }
      catch (err) { tagsSaid.textContent = err.message; }
    } }, el("label", { for: tagsBox.id }, t("account_tags")), tagsBox, el("button", { type: "submit" }, t("save_tags")), tagsSaid)
      : el("p", { class: "meta" }, (a.tags || []).join(" · "));
    const grant = a.authorised;
    const granted = grant ? [
      el("p", { class: "meta" }, `${t("via_platform")} ${grant.permission_sets.join(", ")}`),
      grant.withdrawn_at ? el("p", { class: "warning", role: "status" }, t("withdrawn")) : null,
      ...grant.warnings.map((w) => el("p", { class: "warning" }, w)),
    ] : [];
    cards.push(el("section", { class: "card account", "data-appid": a.appid },
      el("h2", {}, a.name),
      el("p", { class: "meta" }, `${a.appid} · ${a.account_type || "?"}`),
      ...granted,
      el("p", { class: "quota" }, el("strong", { class: "left" }, String(q.left)), ` ${words} · ${t("resets")} ${q.resets_at.replace("T", " ").slice(0, 16)}`),
      calendar, el("h3", {}, t("testers")), testerForm, tagsForm));
  }
  show(el("h1", {}, t("accounts")), ...cards, may("admin") ? authoriseCard() : null);
}

// A link to WeChat's authorisation page, made on request (each is good
// once): WeChat takes it only from a page of the platform's launch
// domain, followed as a link.
function authoriseCard() {
  const said = el("p", { class: "message", role: "status" });
  const link = el("p", {});
  const get = el("button", { type: "button", onclick: async () => {
    said.textContent = "";
    try {
      const page = await api("POST", "/api/v1/accounts/authorization", { redirect_uri: `${location.origin}/platform/authorized` });
      link.replaceChildren(el("a", { href: page.url, id: "authorise-link" }, t("authorise_link")));
    } catch (err) { said.textContent = err.message; }
  } }, t("authorise_get"));
  return el("section", { class: "card authorise" },
    el("h2", {}, t("authorise")), el("p", { class: "meta" }, t("authorise_note")), get, link, said);
}

async function peoplePage() {
  const users = await api("GET", "/api/v1/users");
  const message = el("p", { class: "message", role: "status", id: "people-message" });
  const roles = ["viewer", "editor", "approver", "admin"];
  const roleSelect = (id) => el("select", { id }, ...roles.map((r) => el("option", { value: r }, roleWord(r))));
  const field = (id, label, input) => el("div", { class: "field" }, el("label", { for: id }, label), input);
  const userForm = el("form", { class: "card", id: "new-user", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api("POST", "/api/v1/users", { name: userForm.elements["user-name"].value,
        role: userForm.elements["user-role"].value, password: userForm.elements["user-password"].value });
      await route();
    } catch (err) { message.textContent = err.message; }
  } }, el("h2", {}, t("new_user")),
    el("div", { class: "grid" },
      field("user-name", t("name"), el("input", { id: "user-name", name: "user-name", required: true, autocomplete: "off" })),
      field("user-role", t("role"), roleSelect("user-role")),
      field("user-password", t("password"), el("input", { id: "user-password", name: "user-password", type: "password", required: true, autocomplete: "new-password", minlength: 12 }))),
    el("button", { type: "submit" }, t("new_user")));
  const tokenForm = el("form", { class: "card", id: "new-token", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const made = await api("POST", "/api/v1/tokens", { user: tokenForm.elements["token-user"].value,
        role: tokenForm.elements["token-role"].value, label: tokenForm.elements["token-label"].value });
      message.replaceChildren(t("token_once"), " ", el("code", { id: "new-token-value" }, made.token));
    } catch (err) { message.textContent = err.message; }
  } }, el("h2", {}, t("new_token")),
    el("div", { class: "grid" },
      field("token-user", t("user"), el("select", { id: "token-user", name: "token-user" }, ...users.map((u) => el("option", { value: u.name }, u.name)))),
      field("token-role", t("role"), roleSelect("token-role")),
      field("token-label", t("label"), el("input", { id: "token-label", name: "token-label", required: true }))),
    el("button", { type: "submit" }, t("new_token")));
  const act = async (call) => {
    try { await call(); await route(); } catch (err) { message.textContent = err.message; }
  };
  const userPath = (u) => `/api/v1/users/${encodeURIComponent(u.name)}`;
  const table = el("table", { id: "users" },
    el("thead", {}, el("tr", {}, ...["name", "role", "accounts", "when", "detail"].map((k) => el("th", { scope: "col" }, t(k))))),
    el("tbody", {}, ...users.map((u) => {
      const password = el("input", { type: "password", id: `reset-${u.name}`, autocomplete: "new-password", minlength: 12, required: true });
      return el("tr", { "data-user": u.name },
        el("td", { "data-label": t("name") }, u.name, u.disabled ? ` (${t("disabled")})` : ""),
        el("td", { "data-label": t("role") }, roleWord(u.role)),
        el("td", { "data-label": t("accounts") }, u.accounts ? u.accounts.join(", ") : t("all_accounts")),
        el("td", { "data-label": t("when") }, beijing(u.created_at)),
        el("td", { "data-label": t("detail") },
          el("button", { type: "button", class: u.disabled ? "enable" : "disable",
            onclick: () => act(() => api("POST", `${userPath(u)}/${u.disabled ? "enable" : "disable"}`)) }, t(u.disabled ? "enable" : "disable")),
          el("form", { class: "inline", onsubmit: (e) => { e.preventDefault();
            act(() => api("PUT", `${userPath(u)}/password`, { password: password.value })); } },
            el("label", { for: password.id }, t("reset_password")), password, el("button", { type: "submit" }, t("reset_password"))),
          el("button", { type: "button", class: "remove", onclick: () => {
            if (confirm(t("confirm_remove"))) act(() => api("DELETE", userPath(u)));
          } }, t("remove"))));
    })));
  const tokens = await api("GET", "/api/v1/tokens");
  const tokenTable = el("table", { id: "tokens" },
    el("thead", {}, el("tr", {}, ...["user", "role", "label", "when", "detail"].map((k) => el("th", { scope: "col" }, t(k))))),
    el("tbody", {}, ...tokens.map((k) => el("tr", { "data-token": String(k.id) },
      el("td", { "data-label": t("user") }, k.user), el("td", { "data-label": t("role") }, roleWord(k.role)),
      el("td", { "data-label": t("label") }, k.session ? t("session_word") : k.label),
      el("td", { "data-label": t("when") }, beijing(k.created_at)),
      el("td", { "data-label": t("detail") }, el("button", { type: "button", class: "revoke",
        onclick: () => act(() => api("DELETE", `/api/v1/tokens/${k.id}`)) }, t("revoke")))))));
  show(el("h1", {}, t("people")), el("h2", {}, t("users")), table, message, userForm, tokenForm,
    el("h2", {}, t("tokens")), tokenTable);
}

/// One's own password, changed with the current one (every role).
function passwordPage() {
  const message = el("p", { class: "message", role: "status", id: "password-message" });
  const current = el("input", { type: "password", id: "current-password", autocomplete: "current-password", required: true });
  const next = el("input", { type: "password", id: "new-password", autocomplete: "new-password", minlength: 12, required: true });
  const form = el("form", { class: "card", id: "change-password", onsubmit: async (e) => {
    e.preventDefault();
    try { await api("PUT", "/api/v1/me/password", { current: current.value, password: next.value }); message.textContent = t("done"); }
    catch (err) { message.textContent = err.message; }
  } },
    el("div", { class: "field" }, el("label", { for: current.id }, t("current_password")), current),
    el("div", { class: "field" }, el("label", { for: next.id }, t("new_password")), next),
    el("button", { type: "submit" }, t("change_password")));
  show(el("h1", {}, t("my_password")), form, message);
}

async function auditPage(query) {
  const before = new URLSearchParams(query).get("before");
  const entries = await api("GET", `/api/v1/audit?limit=50${before ? `&before=${encodeURIComponent(before)}` : ""}`);
  const table = el("table", { id: "audit-log" },
    el("thead", {}, el("tr", {}, ...["when", "who", "what", "target", "detail"].map((k) => el("th", { scope: "col" }, t(k))))),
    el("tbody", {}, ...entries.map((e) => el("tr", {},
      el("td", { "data-label": t("when") }, beijing(e.at)), el("td", { "data-label": t("who") }, e.actor),
      el("td", { "data-label": t("what") }, e.action), el("td", { "data-label": t("target") }, e.target),
      el("td", { "data-label": t("detail") }, e.detail)))));
  const last = entries[entries.length - 1];
  show(el("h1", {}, t("audit")), table,
    entries.length === 50 ? el("p", {}, el("a", { href: `#/audit?before=${last.id}` }, t("older"))) : null);
}

// ---- routing ----

async function route() {
  clearTimeout(refresh);
  if (!session) {
    try { session = await api("GET", "/api/v1/session"); } catch { session = null; }
  }
  translateStatic();
  const hash = location.hash.slice(1) || "/campaigns";
  const [path, query] = hash.split("?");
  try {
    if (!session || path === "/signin") return signInPage();
    if (path === "/compose") return await composePage();
    if (path === "/accounts") return await accountsPage();
    if (path === "/people" && may("admin")) return await peoplePage();
    if (path === "/me") return passwordPage();
    if (path === "/audit" && may("admin")) return await auditPage(query || "");
    const one = path.match(/^\/campaigns\/(.+)$/);
    if (one) return await campaignPage(decodeURIComponent(one[1]));
    return await campaignsPage(query || "");
  } catch (err) {
    if (err.status !== 401) show(el("p", { class: "error", role: "alert" }, err.message));
  }
}

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("wxmass.lang", lang);
  route();
});
document.getElementById("sign-out").addEventListener("click", async () => {
  await api("DELETE", "/api/v1/session").catch(() => {});
  session = null;
  location.hash = "#/signin";
  route();
});
window.addEventListener("hashchange", route);
route();
