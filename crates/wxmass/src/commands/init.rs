//! `wxmass init`: writes a profile.

use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::{AccountArgs, InitArgs};
use crate::config::{ConfigFile, Paths, Profile};

pub async fn run(account: &AccountArgs, args: &InitArgs, json: bool) -> Result<()> {
    let paths = Paths::from_env()?;
    let mut file = ConfigFile::load(&paths.config)?;
    let appid = account
        .appid
        .clone()
        .context("wxmass init needs the AppID: --appid wx... (or WXMASS_APPID)")?;
    if !appid.starts_with("wx") || appid.len() != 18 {
        anyhow::bail!("{appid:?} does not look like an AppID (wx followed by 16 characters)");
    }
    let secret = account
        .secret
        .clone()
        .context("wxmass init needs the AppSecret: set WXMASS_SECRET (or --secret)")?;
    let profile = Profile {
        appid: Some(appid.clone()),
        secret: Some(secret.clone()),
        api_base: account.api_base.clone(),
        account_type: args.account_type.clone(),
    };
    // A profile that cannot fetch a token is no use: check before writing
    // (a wrong secret, a missing IP whitelist entry), unless told not to.
    if !args.no_check {
        let mut builder =
            wxmass_api::Client::builder(appid.clone(), wxmass_api::Secret::new(secret));
        if let Some(base) = &account.api_base {
            builder = builder.base_url(base.clone());
        }
        builder
            .build()?
            .access_token()
            .await
            .context("the AppID and AppSecret were not accepted; nothing was written (--no-check writes the profile anyway)")?;
    }
    file.profiles.insert(args.name.clone(), profile);
    if args.make_default || file.default_profile.is_none() {
        file.default_profile = Some(args.name.clone());
    }
    file.save(&paths.config)?;
    let value = json!({"profile": args.name, "appid": appid, "config": paths.config});
    super::print(json, &value, || {
        format!(
            "wrote profile {:?} for {appid} to {} (mode 600){}",
            args.name,
            paths.config.display(),
            if args.no_check {
                ""
            } else {
                "; WeChat accepted the credentials"
            }
        )
    });
    Ok(())
}
