//! One error type for the whole client, and [`Errcode`]: every code of
//! wechat-api.md §19 with what it means and what to do about it.

use std::fmt;

/// What a client should do about an errcode (the retry column of §19).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// The access token is bad: refresh it, retry once.
    RefreshToken,
    /// Transient: back off and retry.
    Retry,
    /// A quota or confirmation: wait (the next minute, day or period) and retry.
    Wait,
    /// The request is wrong: fix it; retrying cannot help.
    Stop,
}

macro_rules! errcodes {
    ($($name:ident = $code:literal, $reaction:ident, $meaning:literal;)*) => {
        /// A WeChat errcode. Codes this version does not know are kept in
        /// [`Errcode::Other`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Errcode {
            $(
                #[doc = $meaning]
                $name,
            )*
            /// A code not in wechat-api.md §19.
            Other(i64),
        }

        impl Errcode {
            /// The errcode for a number.
            pub fn from_code(code: i64) -> Errcode {
                match code {
                    $($code => Errcode::$name,)*
                    other => Errcode::Other(other),
                }
            }

            /// The number.
            pub fn code(self) -> i64 {
                match self {
                    $(Errcode::$name => $code,)*
                    Errcode::Other(code) => code,
                }
            }

            /// What to do about it.
            pub fn reaction(self) -> Reaction {
                match self {
                    $(Errcode::$name => Reaction::$reaction,)*
                    Errcode::Other(_) => Reaction::Stop,
                }
            }

            /// What it means, in a few words.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Errcode::$name => $meaning,)*
                    Errcode::Other(_) => "errcode not in the reference table",
                }
            }
        }
    };
}

errcodes! {
    SystemBusy = -1, Retry, "system busy; retry later";
    InvalidCredential = 40001, RefreshToken, "access token invalid or superseded (or, when fetching a token, wrong AppSecret)";
    InvalidGrantType = 40002, Stop, "grant_type is not client_credential";
    InvalidOpenId = 40003, Stop, "openid invalid, not a follower, or of another account";
    InvalidMediaType = 40004, Stop, "invalid media type";
    InvalidFileType = 40005, Stop, "invalid file type";
    InvalidMediaSize = 40006, Stop, "invalid media size";
    InvalidMediaId = 40007, Stop, "unknown or expired media_id, or the wrong kind for the msgtype";
    InvalidMessageType = 40008, Stop, "invalid msgtype";
    InvalidImageSize = 40009, Stop, "image too large";
    InvalidVoiceSize = 40010, Stop, "voice too large";
    InvalidVideoSize = 40011, Stop, "video too large";
    InvalidThumbSize = 40012, Stop, "thumb too large";
    InvalidAppId = 40013, Stop, "invalid AppID";
    InvalidAccessToken = 40014, RefreshToken, "malformed access token";
    InvalidOpenIdList = 40031, Stop, "invalid openid list";
    InvalidOpenIdListSize = 40032, Stop, "openid list too long or empty";
    InvalidCharset = 40033, Stop, "\\uXXXX escapes in the body (historical)";
    InvalidArgsSize = 40035, Stop, "invalid parameter";
    InvalidTemplateIdSize = 40036, Stop, "malformed template_id";
    InvalidTemplateId = 40037, Stop, "not this account's template (or a subscription notice's id)";
    KeywordNameInvalid = 40246, Stop, "keyword_name_list names a keyword the library template lacks";
    HistoryTemplateRetired = 40247, Stop, "TM/OPENTM history templates were retired in 2023";
    TemplateMessageBlocked = 40249, Stop, "the template message was blocked for its content";
    InvalidGroupId = 40050, Stop, "invalid group id";
    InvalidGroupName = 40051, Stop, "invalid group name";
    InvalidMsgId = 40059, Stop, "unknown msg_id";
    InvalidArticleIdx = 40060, Stop, "invalid article_idx";
    InvalidUrl = 40066, Stop, "invalid URL";
    InvalidAppSecret = 40125, Stop, "invalid AppSecret";
    NotPermanentMedia = 40128, Stop, "mass image or voice needs permanent material (add_material)";
    OpenIdListTooShort = 40130, Stop, "mass/send needs at least two openids";
    InvalidWeChatId = 40132, Stop, "invalid WeChat ID";
    InvalidImageFormat = 40137, Stop, "invalid image format";
    IpNotWhitelisted = 40164, Stop, "caller IP is not in the API IP whitelist";
    AppSecretFrozen = 40243, Stop, "AppSecret frozen";
    AccessTokenMissing = 41001, Stop, "access_token missing";
    AppIdMissing = 41002, Stop, "appid missing";
    AppSecretMissing = 41004, Stop, "secret missing";
    MediaDataMissing = 41005, Stop, "no media part";
    MediaIdMissing = 41006, Stop, "media_id missing";
    OpenIdMissing = 41009, Stop, "openid missing";
    AccessTokenExpired = 42001, RefreshToken, "access token expired";
    RequireGet = 43001, Stop, "GET required";
    RequirePost = 43002, Stop, "POST required";
    RequireHttps = 43003, Stop, "HTTPS required";
    RequireSubscribe = 43004, Stop, "recipient does not follow the account";
    RequireRemoveBlacklist = 43019, Stop, "recipient blacklisted";
    UserRefusedMessage = 43101, Stop, "the follower has no subscription left for this template (or refused it)";
    EmptyMediaData = 44001, Stop, "empty media data";
    EmptyPostData = 44002, Stop, "empty body";
    EmptyNewsData = 44003, Stop, "empty news data";
    EmptyContent = 44004, Stop, "empty content";
    MediaSizeOutOfLimit = 45001, Stop, "media size out of limit";
    ContentSizeOutOfLimit = 45002, Stop, "content size out of limit";
    TitleSizeOutOfLimit = 45003, Stop, "title size out of limit";
    DescriptionSizeOutOfLimit = 45004, Stop, "description size out of limit";
    PlaytimeOutOfLimit = 45007, Stop, "voice longer than 60 s";
    ArticleSizeOutOfLimit = 45008, Stop, "too many articles";
    ApiFreqOutOfLimit = 45009, Wait, "daily API quota reached";
    ApiMinuteQuota = 45011, Wait, "per-minute quota reached; retry next minute";
    ResponseOutOfTime = 45015, Stop, "outside the follower's customer-service window (or they unfollowed)";
    TemplateNumExceeds = 45026, Stop, "the account has its most templates (25)";
    TemplateConflictsIndustry = 45027, Stop, "the template is not of the account's industries";
    OutOfResponseCount = 45047, Stop, "the follower's customer-service window has no messages left";
    InvalidTypingCommand = 45072, Stop, "typing command is Typing or CancelTyping";
    TypingNeedsInteraction = 45080, Stop, "typing needs the follower's action in the last 30 s";
    AlreadyTyping = 45081, Stop, "already typing (15 s)";
    NoMassSendQuota = 45028, Wait, "no mass-send quota left in this period";
    AdAgreement = 45062, Stop, "accounts with an ad agreement cannot mass-send by API";
    ClientMsgIdExist = 45065, Stop, "a job with this clientmsgid exists (within 24 h)";
    ClientMsgIdRetryTooFast = 45066, Wait, "same clientmsgid retried within a minute";
    ClientMsgIdTooLong = 45067, Stop, "clientmsgid too long";
    SpeedOutOfRange = 45083, Stop, "speed not in 0..=4";
    NoSpeed = 45084, Stop, "speed missing";
    Unsupported = 45103, Stop, "API retired";
    TooManyTags = 45056, Stop, "100 tags already";
    TagHasTooManyFans = 45057, Stop, "tag has more than 100,000 followers";
    SystemTag = 45058, Stop, "tags 0, 1 and 2 cannot be changed";
    TooManyTagsOnUser = 45059, Stop, "a follower carries at most 20 tags";
    InvalidTagName = 45157, Stop, "invalid or duplicate tag name";
    TagNameTooLong = 45158, Stop, "tag name over 30 bytes";
    InvalidTagId = 45159, Stop, "invalid tag id";
    UnsupportedContent = 45166, Stop, "unsupported article content or hyperlink";
    DateFormat = 61500, Stop, "datacube: a date is not YYYY-MM-DD";
    DateRange = 61501, Stop, "datacube: the range is too long, or ends today or later";
    CommentsClosed = 88000, Stop, "comments are not open on this article (comment/open)";
    NoSuchContent = 88001, Stop, "no sent content with this msg_data_id and index";
    AlreadyReplied = 88005, Stop, "the comment has a reply already (delete it first)";
    BadReply = 88007, Stop, "a reply is 1 to 600 characters";
    NoSuchComment = 88008, Stop, "no such comment";
    CommentCountOutOfRange = 88010, Stop, "comment/list takes under 50 a page";
    DataNotReady = 61503, Stop, "datacube: the figures are not ready yet (after 08:00 Beijing time the next day)";
    MediaNotExist = 46001, Stop, "media does not exist";
    UserNotExist = 46004, Stop, "user does not exist";
    DataFormatError = 47001, Stop, "malformed JSON or XML";
    ArgumentInvalid = 47003, Stop, "a field breaks its rule (a template keyword's value)";
    ApiUnauthorized = 48001, Stop, "no permission for this API (unverified account, wrong account type)";
    MassProtocolNotAgreed = 48003, Stop, "admin must accept the mass-send agreement";
    ApiForbidden = 48004, Stop, "API banned for irregularities";
    ClearQuotaLimit = 48006, Stop, "clear_quota used 10 times this month";
    NoPermissionForMsgType = 48008, Stop, "no permission for this msgtype";
    OpenIdNotOfAppId = 49003, Stop, "openid does not belong to this AppID";
    UserUnauthorized = 50001, Stop, "API or user unauthorized";
    UserLimited = 50002, Stop, "user limited";
    ComponentNotAuthorized = 61003, Stop, "the account has not authorised this platform (or withdrew)";
    ClientIpNotRegistered = 61004, Stop, "client IP not registered";
    ComponentTicketExpired = 61005, Stop, "the component_verify_ticket is over 12 hours old";
    ComponentTicketInvalid = 61006, Stop, "the component_verify_ticket is not one WeChat pushed (or is empty)";
    ApiUnauthorizedToComponent = 61007, Stop, "the platform lacks this permission set for the account";
    AuthorizationCodeInvalid = 61009, Stop, "the authorization code is unknown or used";
    AuthorizationCodeExpired = 61010, Stop, "the authorization code expired";
    InvalidComponent = 61011, Stop, "invalid component appid";
    ComponentTokenRequired = 61014, Stop, "this API takes the component_access_token";
    AuthorizerTokenRequired = 61015, Stop, "this API takes an account's access token, not the platform's";
    RefreshTokenInvalid = 61023, Stop, "the authorizer_refresh_token is not the account's current one (or it withdrew)";
    ComponentTokenApi = 61024, Stop, "a platform gets its token from api_component_token";
    ComponentUnpublished = 61028, Stop, "the platform is not released (全网发布) yet";
    RidNotFound = 76001, Stop, "no request with this rid (rids are kept 7 days)";
    CgiPathNotFound = 76021, Stop, "quota/get: no API at this cgi_path";
    CgiPathNoPermission = 76022, Stop, "quota/get: this token may not ask about this cgi_path";
    AwaitingConfirmation = 89503, Wait, "waiting for the admin's confirmation";
    SpeedAwaitingConfirmation = 89504, Wait, "speed change waiting for the admin's confirmation";
    MassTaskTooMuch = 9500002, Retry, "too many mass jobs running; retry later";
}

impl fmt::Display for Errcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.meaning())
    }
}

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// WeChat answered with an errcode.
    #[error("WeChat {path} failed: errcode {code}: {errmsg}{}", rid.as_deref().map(|r| format!(" (rid {r})")).unwrap_or_default())]
    Api {
        /// The API path.
        path: String,
        /// The errcode.
        code: Errcode,
        /// The errmsg without its rid suffix.
        errmsg: String,
        /// The rid, for WeChat support.
        rid: Option<String>,
        /// The `msg_id` some errors carry (45065: the existing job).
        msg_id: Option<i64>,
    },
    /// The request was refused before it left: nothing was sent, no quota spent.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Nothing reached WeChat: every host refused the connection.
    #[error("WeChat {path} unreachable: {message}")]
    Transport {
        /// The API path.
        path: String,
        /// What happened.
        message: String,
    },
    /// The request left, but no whole answer came back (reset, timed out,
    /// cut short): WeChat may have acted on it.
    #[error("WeChat {path} may have acted, but its answer was lost: {message}")]
    AnswerLost {
        /// The API path.
        path: String,
        /// What happened.
        message: String,
    },
    /// An HTTP status WeChat does not use for API errors (5xx from a proxy, ...).
    #[error("WeChat {path} answered HTTP {status}")]
    Http {
        /// The API path.
        path: String,
        /// The status.
        status: u16,
    },
    /// The answer was not what the API documents.
    #[error("WeChat {path} answered something unexpected: {message}")]
    Decode {
        /// The API path.
        path: String,
        /// What did not fit.
        message: String,
    },
    /// The token store failed.
    #[error("token store: {0}")]
    TokenStore(String),
    /// Datacube's figures are not ready yet (61503): WeChat publishes a
    /// day's after 08:00 Beijing time the next day.
    #[error("WeChat {path}: the figures are not ready yet; try again after {}", shown_beijing(*retry_at))]
    NotReady {
        /// The API path.
        path: String,
        /// Unix seconds from which to try again.
        retry_at: i64,
    },
}

/// `2026-12-04 08:00 (Beijing time)`.
fn shown_beijing(unix: i64) -> String {
    let day = crate::date::Date::of_unix(unix);
    let minutes = (unix + 8 * 3600).rem_euclid(86_400) / 60;
    format!(
        "{day} {:02}:{:02} (Beijing time)",
        minutes / 60,
        minutes % 60
    )
}

impl Error {
    /// What to do about this error, in a line, when there is something to
    /// say: both faces (the CLI's `what to do`, the server's campaign
    /// notes) show the same words.
    pub fn advice(&self) -> Option<String> {
        let (code, errmsg, path) = match self {
            Error::Api {
                code, errmsg, path, ..
            } => (code, errmsg, path),
            Error::Transport { .. } => {
                return Some(
                    "WeChat could not be reached: check the network, or --api-base".into(),
                );
            }
            Error::AnswerLost { .. } => {
                return Some("the request reached WeChat but its answer was lost: rerun the same command, which sends nothing twice, or `wxmass status --refresh` to learn what became of a send".into());
            }
            _ => return None,
        };
        Some(match code {
            Errcode::IpNotWhitelisted => {
                let ip = errmsg.split_whitespace().nth(2).unwrap_or("this machine's IP");
                format!("add {ip} to the API IP whitelist: mp.weixin.qq.com > Settings and Development > Basic Configuration > IP whitelist")
            }
            Errcode::InvalidCredential if path.contains("token") => {
                "the AppSecret does not match the AppID: copy it again from mp.weixin.qq.com > Basic Configuration, or reset it".into()
            }
            Errcode::InvalidAppSecret | Errcode::InvalidAppId => {
                "check the AppID and AppSecret (mp.weixin.qq.com > Basic Configuration)".into()
            }
            Errcode::NoMassSendQuota => {
                "the mass-send quota is spent: a subscription account sends once a day, a service account 4 times a month per follower; it returns at the next period (midnight, Beijing time)".into()
            }
            Errcode::InvalidMessageType if path.contains("mass/delete") => {
                "only article (mpnews) and video jobs can be deleted; texts, pictures and voice stay".into()
            }
            Errcode::ApiMinuteQuota if path.contains("mass/") => {
                "WeChat takes 60 mass sends a minute: rerun the same command in a minute; it resumes and sends nothing twice".into()
            }
            Errcode::ApiMinuteQuota => {
                "this API's calls for the minute are used: wait for the next minute (openapi/quota/get's rate_limit says the pace)".into()
            }
            Errcode::ResponseOutOfTime => {
                "a customer-service message goes only to a follower who wrote, clicked the menu, followed or scanned a code lately: wait for them to, or use a template message".into()
            }
            Errcode::OutOfResponseCount => {
                "the follower's window has no customer-service messages left: the next message or click from them opens a new one".into()
            }
            Errcode::ArgumentInvalid => {
                "a keyword's value breaks its type's rule (thing at most 20 characters, no line breaks, ...): see the errmsg's data.KEY and fix that value".into()
            }
            Errcode::InvalidTemplateId => {
                "use a template id of this account (`get_all_private_template`); subscription notices have ids of their own".into()
            }
            Errcode::HistoryTemplateRetired => {
                "add a category template (a numeric template_id_short) instead: TM/OPENTM templates were retired in 2023".into()
            }
            Errcode::UserRefusedMessage => {
                "the follower's subscription to this template is spent or withdrawn: only their next consent allows another".into()
            }
            Errcode::RequireSubscribe => {
                "this follower no longer follows the account: a template message reaches followers only (skip them; a subscription notice reaches non-followers)".into()
            }
            Errcode::RequireRemoveBlacklist => {
                "the account blacklisted this follower: remove them from the blacklist (mp.weixin.qq.com > Users) or skip them".into()
            }
            Errcode::TemplateMessageBlocked => {
                "WeChat's review blocked this template message for its content: template messages are service notices, not marketing; reword it".into()
            }
            Errcode::TemplateNumExceeds => {
                "the account holds its most templates (25): delete one it no longer uses (del_private_template) first".into()
            }
            Errcode::TemplateConflictsIndustry => {
                "the template is not of the account's industries: set them (api_set_industry, once a month) or pick a template of theirs".into()
            }
            Errcode::KeywordNameInvalid => {
                "keyword_name_list must name the library template's keywords exactly, in their order".into()
            }
            Errcode::ApiUnauthorizedToComponent => {
                "the account did not grant the platform this permission set: its admin re-authorises with it (7 for template messages, 89 for notices)".into()
            }
            Errcode::ClientIpNotRegistered => {
                "add this machine's IP to the platform's IP whitelist: open.weixin.qq.com > Third-party Platform > Development settings".into()
            }
            Errcode::ComponentNotAuthorized => {
                "the account no longer authorises the platform: its admin authorises it again (the platform cannot do it for them)".into()
            }
            Errcode::ComponentTicketExpired | Errcode::ComponentTicketInvalid => {
                "the platform needs the latest component_verify_ticket, pushed every 10 minutes to the authorization event URL: check that URL answers `success`, or call api_start_push_ticket".into()
            }
            Errcode::AuthorizationCodeInvalid | Errcode::AuthorizationCodeExpired => {
                "an authorization code is used once, within about 10 minutes: the admin authorises again for a new one".into()
            }
            Errcode::RefreshTokenInvalid => {
                "the account's refresh token was replaced (a new authorisation) or withdrawn: api_get_authorizer_list has the current one; if the account is not listed, its admin authorises again".into()
            }
            Errcode::ComponentUnpublished => {
                "before 全网发布 only the accounts in the platform's test list (授权测试公众号列表) can authorise".into()
            }
            Errcode::ApiFreqOutOfLimit => "the daily API quota is spent: it resets at midnight, Beijing time (or POST /cgi-bin/clear_quota)".into(),
            Errcode::ApiUnauthorized if path.contains("mass/send") => {
                "sending to an openid list (mass/send) needs a verified service account".into()
            }
            Errcode::ApiUnauthorized => "this account may not use this API (verification or account type)".into(),
            Errcode::InvalidMediaId => {
                "WeChat does not know this media id for this account (uploads belong to one account, and temporary ones last 3 days): upload the file again".into()
            }
            _ => return None,
        })
    }

    /// Whether sending the same request again cannot succeed: WeChat
    /// refused it for what it says (a bad media id, no permission), or it
    /// was refused before it left. Quotas, pace, the network and WeChat's
    /// own failures pass.
    pub fn is_permanent(&self) -> bool {
        match self {
            Error::Api { code, .. } => code.reaction() == Reaction::Stop,
            Error::Invalid(_) => true,
            _ => false,
        }
    }

    /// Whether the request is known to have done nothing at WeChat: it
    /// never reached it, or WeChat said it did nothing (busy, a bad token,
    /// the day's or the minute's calls spent). Not a duplicate key's
    /// answer (45065, 45066): that one speaks of an earlier request.
    pub fn says_nothing_was_done(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            Error::Api { code, .. } => {
                matches!(code.reaction(), Reaction::Retry | Reaction::RefreshToken)
                    || matches!(code, Errcode::ApiFreqOutOfLimit | Errcode::ApiMinuteQuota)
            }
            _ => false,
        }
    }

    /// The errcode, for API errors.
    pub fn errcode(&self) -> Option<Errcode> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Splits `"invalid media_id hint: [x] rid: 65d5-31349bbf"` into the message and the rid.
pub fn split_rid(errmsg: &str) -> (String, Option<String>) {
    let (head, rid) = match errmsg.rfind(" rid: ") {
        Some(i) => (&errmsg[..i], Some(errmsg[i + 6..].trim().to_owned())),
        None => (errmsg, None),
    };
    let head = head.trim_end_matches(',').trim_end();
    let head = match head.rfind(" hint: [") {
        Some(i) => &head[..i],
        None => head,
    };
    (head.to_owned(), rid)
}

/// A client result.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_classify() {
        for code in [-1, 40001, 42001, 45009, 45065, 9500002] {
            assert_eq!(Errcode::from_code(code).code(), code);
        }
        assert_eq!(Errcode::from_code(40014).reaction(), Reaction::RefreshToken);
        assert_eq!(Errcode::from_code(-1).reaction(), Reaction::Retry);
        assert_eq!(Errcode::from_code(45028).reaction(), Reaction::Wait);
        assert_eq!(Errcode::from_code(40007).reaction(), Reaction::Stop);
        assert_eq!(Errcode::from_code(12345), Errcode::Other(12345));
        assert_eq!(Errcode::ApiFreqOutOfLimit.code(), 45009);
        // Every errcode the notification channels meet says what to do.
        for code in [
            43004, 43019, 45015, 45047, 47003, 40037, 40249, 45026, 45027, 40246, 40247, 48001,
            61007, 43101, 45009, 45011, 61003, 61005, 61006, 61009, 61010, 61023, 61028,
        ] {
            let e = Error::Api {
                code: Errcode::from_code(code),
                errmsg: String::new(),
                path: "/cgi-bin/message/template/send".into(),
                rid: None,
                msg_id: None,
            };
            assert!(e.advice().is_some(), "{code} has no advice");
        }
    }

    #[test]
    fn rid_is_split_off() {
        assert_eq!(
            split_rid("invalid media_id hint: [hJfDkA01544357] rid: 65d56251-31349bbf-5f45a190"),
            (
                "invalid media_id".to_owned(),
                Some("65d56251-31349bbf-5f45a190".to_owned())
            )
        );
        assert_eq!(
            split_rid("has no masssend quota, rid: 62bd10f4-7514f9d8-1d884148"),
            (
                "has no masssend quota".to_owned(),
                Some("62bd10f4-7514f9d8-1d884148".to_owned())
            )
        );
        assert_eq!(split_rid("ok"), ("ok".to_owned(), None));
    }
}
