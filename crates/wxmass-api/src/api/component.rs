//! A third-party platform's authorisation page (wechat-notifications.md
//! §1.6): the address an account's admin opens to authorise the platform,
//! and the redirect that comes back with its `auth_code`.
//!
//! The page must be opened by a real navigation from a page on the
//! platform's launch domain (WeChat checks the Referer), and `redirect_uri`
//! must be on that domain: neither can be checked here. The redirect names
//! no account: `api_query_auth` with its code says which one.

use crate::error::{Error, Result};
use crate::ids::is_appid;

/// Where the admin authorises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationPage {
    /// A QR code to scan, on a computer (`componentloginpage`).
    Pc,
    /// A link opened inside WeChat on the phone (`bindcomponent`, the 2.0
    /// address).
    Mobile,
}

/// Which accounts the admin may pick: kinds (`auth_type`), or one account
/// (`biz_appid`). WeChat takes one or the other, never both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offered {
    /// Official Accounts only (`auth_type=1`): what wxmass sends for.
    OfficialAccounts,
    /// Mini Programs only (`auth_type=2`).
    MiniPrograms,
    /// Either (`auth_type=3`).
    Both,
    /// This account only (`biz_appid`).
    Account(String),
}

/// The authorisation page's address for `pre_auth_code` (single use, from
/// `api_create_preauthcode`), sending the admin back to `redirect_uri`.
pub fn authorization_url(
    component_appid: &str,
    pre_auth_code: &str,
    redirect_uri: &str,
    page: AuthorizationPage,
    offered: &Offered,
) -> Result<String> {
    if !is_appid(component_appid) {
        return Err(Error::Invalid(format!(
            "component_appid {component_appid:?}: the platform's AppID, `wx` and 16 letters or digits"
        )));
    }
    if pre_auth_code.trim().is_empty() || pre_auth_code.len() > 512 {
        return Err(Error::Invalid(
            "pre_auth_code: the code api_create_preauthcode answered (each is used once)".into(),
        ));
    }
    let web = redirect_uri.starts_with("https://") || redirect_uri.starts_with("http://");
    if !web || redirect_uri.len() > 1024 || redirect_uri.bytes().any(|b| b.is_ascii_control()) {
        return Err(Error::Invalid(format!(
            "redirect_uri {redirect_uri:?}: a web address on the platform's launch domain (授权发起页域名)"
        )));
    }
    let which = match offered {
        Offered::OfficialAccounts => "auth_type=1".to_owned(),
        Offered::MiniPrograms => "auth_type=2".to_owned(),
        Offered::Both => "auth_type=3".to_owned(),
        Offered::Account(appid) if is_appid(appid) => format!("biz_appid={appid}"),
        Offered::Account(appid) => {
            return Err(Error::Invalid(format!(
                "biz_appid {appid:?}: an AppID, `wx` and 16 letters or digits"
            )));
        }
    };
    let query = format!(
        "component_appid={component_appid}&pre_auth_code={}&redirect_uri={}&{which}",
        super::percent_encode(pre_auth_code),
        super::percent_encode(redirect_uri),
    );
    Ok(match page {
        AuthorizationPage::Pc => {
            format!("https://mp.weixin.qq.com/cgi-bin/componentloginpage?{query}")
        }
        AuthorizationPage::Mobile => format!(
            "https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&{query}#wechat_redirect"
        ),
    })
}

/// What the authorisation page sends back: `redirect_uri?auth_code=...&
/// expires_in=600`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRedirect {
    /// The code `api_query_auth` exchanges, once, for the account's tokens.
    pub auth_code: String,
    /// Seconds it stays good (600 when the redirect does not say).
    pub expires_in: u32,
}

impl AuthorizationRedirect {
    /// Reads the redirect's query (without the `?`). It comes from a
    /// browser: anything else in it is ignored, a code that is missing,
    /// empty, over 512 bytes or not printable ASCII is refused, and so is
    /// an `expires_in` that is not 1 to 86,400.
    pub fn parse(query: &str) -> Result<AuthorizationRedirect> {
        let mut code = None;
        let mut expires_in = None;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "auth_code" if code.is_none() => code = Some(value.into_owned()),
                "auth_code" => {
                    return Err(Error::Invalid("auth_code: given twice".into()));
                }
                "expires_in" => expires_in = Some(value.into_owned()),
                _ => {}
            }
        }
        let auth_code = code.ok_or_else(|| {
            Error::Invalid(
                "auth_code: missing (the admin cancelled, or this is not the authorisation page's redirect)"
                    .into(),
            )
        })?;
        if auth_code.is_empty()
            || auth_code.len() > 512
            || !auth_code.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::Invalid(
                "auth_code: 1 to 512 printable characters".into(),
            ));
        }
        let expires_in = match expires_in {
            None => 600,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|s| (1..=86_400).contains(s))
                .ok_or_else(|| Error::Invalid(format!("expires_in {v:?}: seconds, 1 to 86,400")))?,
        };
        Ok(AuthorizationRedirect {
            auth_code,
            expires_in,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLATFORM: &str = "wx134c8103faa5a59e";

    #[test]
    fn the_pc_and_mobile_pages_carry_the_code_and_the_encoded_redirect() {
        let pc = authorization_url(
            PLATFORM,
            "preauthcode@@@abc",
            "https://launch.example.com/authorised?team=7",
            AuthorizationPage::Pc,
            &Offered::OfficialAccounts,
        )
        .expect("pc");
        assert_eq!(
            pc,
            "https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=wx134c8103faa5a59e\
             &pre_auth_code=preauthcode%40%40%40abc\
             &redirect_uri=https%3A%2F%2Flaunch.example.com%2Fauthorised%3Fteam%3D7&auth_type=1"
        );
        let mobile = authorization_url(
            PLATFORM,
            "preauthcode@@@abc",
            "https://launch.example.com/back",
            AuthorizationPage::Mobile,
            &Offered::Account("wxba5fad812f8e6fb9".into()),
        )
        .expect("mobile");
        assert!(mobile.starts_with(
            "https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=wx134c8103faa5a59e&"
        ));
        assert!(mobile.ends_with("&biz_appid=wxba5fad812f8e6fb9#wechat_redirect"));
        assert!(!mobile.contains("auth_type"), "one or the other: {mobile}");
    }

    #[test]
    fn what_wechat_would_refuse_is_refused_here() {
        let url = |appid: &str, code: &str, redirect: &str, offered: Offered| {
            authorization_url(appid, code, redirect, AuthorizationPage::Pc, &offered)
                .expect_err("refused")
                .to_string()
        };
        let ok = "https://launch.example.com/back";
        assert!(url("wx123", "c", ok, Offered::Both).contains("component_appid"));
        assert!(url(PLATFORM, " ", ok, Offered::Both).contains("pre_auth_code"));
        assert!(url(PLATFORM, "c", "javascript:alert(1)", Offered::Both).contains("redirect_uri"));
        assert!(url(PLATFORM, "c", "https://a/\nb", Offered::Both).contains("redirect_uri"));
        assert!(url(PLATFORM, "c", ok, Offered::Account("gh_1".into())).contains("biz_appid"));
    }

    #[test]
    fn the_redirect_is_read_as_hostile_input() {
        let back = AuthorizationRedirect::parse(
            "auth_code=queryauthcode%40%40%40xyz&expires_in=600&state=9",
        )
        .expect("redirect");
        assert_eq!(back.auth_code, "queryauthcode@@@xyz");
        assert_eq!(back.expires_in, 600);
        assert_eq!(
            AuthorizationRedirect::parse("auth_code=c")
                .expect("no expiry")
                .expires_in,
            600
        );
        for bad in [
            "",
            "state=1",
            "auth_code=",
            "auth_code=a%0Ab",
            "auth_code=a&auth_code=b",
            "auth_code=a&expires_in=-1",
            "auth_code=a&expires_in=99999999999",
        ] {
            assert!(AuthorizationRedirect::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("auth_code={}", "a".repeat(513));
        assert!(AuthorizationRedirect::parse(&long).is_err());
    }
}
