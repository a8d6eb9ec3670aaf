//! Errors that say what to do: WeChat's errcodes turned into next steps.

use wxmass_api::{Errcode, Error};

/// A line of advice for an error, when there is one.
pub fn advice(error: &anyhow::Error) -> Option<String> {
    let api = error.downcast_ref::<Error>()?;
    let Error::Api {
        code, errmsg, path, ..
    } = api
    else {
        return match api {
            Error::Transport { .. } => {
                Some("WeChat could not be reached: check the network, or --api-base".into())
            }
            Error::AnswerLost { .. } => Some(
                "the request reached WeChat but its answer was lost: rerun the same command, which sends nothing twice, or `wxmass status --refresh` to learn what became of a send".into(),
            ),
            _ => None,
        };
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
        Errcode::ApiMinuteQuota => {
            "WeChat takes 60 mass sends a minute: rerun the same command in a minute; it resumes and sends nothing twice".into()
        }
        Errcode::ApiFreqOutOfLimit => "the daily API quota is spent: it resets at midnight, Beijing time (or POST /cgi-bin/clear_quota)".into(),
        Errcode::ApiUnauthorized if path.contains("mass/send") => {
            "sending to an openid list (mass/send) needs a verified service account".into()
        }
        Errcode::ApiUnauthorized => "this account may not use this API (verification or account type)".into(),
        _ => return None,
    })
}
