//! Where settings come from, strongest first: flags, environment
//! (`WXMASS_APPID`, `WXMASS_SECRET`, `WXMASS_API_BASE`, `WXMASS_PROFILE`,
//! `WXMASS_HOME`), a profile in the TOML file, defaults.
//!
//! The file is `$WXMASS_HOME/config.toml`, else `$XDG_CONFIG_HOME/wxmass/config.toml`
//! (`~/.config/wxmass/config.toml`). It holds secrets, so `wxmass init` writes
//! it readable by its owner only, and loading warns when others can read it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// One account's settings in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The AppID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// The AppSecret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// API base URL (default: WeChat's hosts with failover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// `service` or `subscription`: enables the quota guard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The profile used when none is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    /// Profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// Where wxmass keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The config file.
    pub config: PathBuf,
    /// The directory of the journal and the token cache.
    pub data: PathBuf,
}

impl Paths {
    /// From `WXMASS_HOME`, else the XDG directories.
    pub fn from_env() -> Result<Paths> {
        if let Some(home) = std::env::var_os("WXMASS_HOME").filter(|h| !h.is_empty()) {
            let home = PathBuf::from(home);
            return Ok(Paths {
                config: home.join("config.toml"),
                data: home,
            });
        }
        let user_home = std::env::var_os("HOME").map(PathBuf::from);
        let xdg = |var: &str, fallback: &str| -> Result<PathBuf> {
            match std::env::var_os(var).filter(|v| !v.is_empty()) {
                Some(dir) => Ok(PathBuf::from(dir)),
                None => user_home
                    .as_ref()
                    .map(|h| h.join(fallback))
                    .context("neither WXMASS_HOME nor HOME is set; set WXMASS_HOME to a directory for wxmass's files"),
            }
        };
        Ok(Paths {
            config: xdg("XDG_CONFIG_HOME", ".config")?
                .join("wxmass")
                .join("config.toml"),
            data: xdg("XDG_DATA_HOME", ".local/share")?.join("wxmass"),
        })
    }

    /// The token cache shared by every wxmass process of this user.
    pub fn token_store(&self) -> PathBuf {
        self.data.join("tokens.db")
    }
}

impl ConfigFile {
    /// Reads the file; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        warn_if_readable_by_others(path);
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid wxmass config", path.display()))
    }

    /// Writes the file, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self).context("cannot serialise the config")?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        write_private(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Writes `data` to `path` with mode 0600 (replacing the file atomically).
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(data)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "warning: {} holds secrets and can be read by other users; run: chmod 600 {}",
                path.display(),
                path.display()
            );
        }
    }
}

/// The settings a command runs with, after every source is merged.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The profile's name.
    pub profile: String,
    /// The AppID.
    pub appid: String,
    /// The AppSecret; `None` only for commands that never call the API
    /// (`serve` must not need it: it faces the internet).
    pub secret: Option<wxmass_api::Secret>,
    /// API base URL, if not WeChat's.
    pub api_base: Option<String>,
    /// `service` or `subscription`, when the profile says: turns on the quota guard.
    pub account_type: Option<String>,
    /// Where files go.
    pub paths: Paths,
}

/// Flags that override the file (their env variables are read by clap).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--profile` / `WXMASS_PROFILE`.
    pub profile: Option<String>,
    /// `--appid` / `WXMASS_APPID`.
    pub appid: Option<String>,
    /// `--secret` / `WXMASS_SECRET`.
    pub secret: Option<String>,
    /// `--api-base` / `WXMASS_API_BASE`.
    pub api_base: Option<String>,
}

impl Settings {
    /// Merges flags, environment and the file.
    pub fn resolve(overrides: &Overrides) -> Result<Settings> {
        let settings = Settings::resolve_without_secret(overrides)?;
        settings.secret()?;
        Ok(settings)
    }

    /// The secret, or what to do about its absence.
    pub fn secret(&self) -> Result<&wxmass_api::Secret> {
        self.secret.as_ref().with_context(|| {
            "no AppSecret: set WXMASS_SECRET, or run `wxmass init` (avoid --secret: shells keep history)"
        })
    }

    /// Merges flags, environment and the file, with the secret optional.
    pub fn resolve_without_secret(overrides: &Overrides) -> Result<Settings> {
        let paths = Paths::from_env()?;
        let file = ConfigFile::load(&paths.config)?;
        let name = overrides
            .profile
            .clone()
            .or_else(|| file.default_profile.clone())
            .unwrap_or_else(|| "default".to_owned());
        let profile = match (file.profiles.get(&name), &overrides.profile) {
            (Some(p), _) => p.clone(),
            (None, Some(_)) if !file.profiles.is_empty() => bail!(
                "no profile {name:?} in {}; profiles: {}",
                paths.config.display(),
                file.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            (None, _) => Profile::default(),
        };
        let appid = overrides.appid.clone().or(profile.appid).with_context(|| {
            format!(
                "no AppID: pass --appid, set WXMASS_APPID, or run `wxmass init` (config: {})",
                paths.config.display()
            )
        })?;
        let secret = overrides.secret.clone().or(profile.secret);
        Ok(Settings {
            profile: name,
            appid,
            secret: secret.map(wxmass_api::Secret::new),
            api_base: overrides.api_base.clone().or(profile.api_base),
            account_type: profile.account_type,
            paths,
        })
    }

    /// A client for these settings, sharing tokens through the data directory.
    pub fn client(&self) -> Result<wxmass_api::Client> {
        self.client_with(sqlite_token_store(&self.paths)?)
    }

    /// A client for these settings, keeping tokens in `store`.
    pub fn client_with(
        &self,
        store: std::sync::Arc<dyn wxmass_api::TokenStore>,
    ) -> Result<wxmass_api::Client> {
        let mut builder = wxmass_api::Client::builder(self.appid.clone(), self.secret()?.clone())
            .token_store(store);
        if let Some(base) = &self.api_base {
            builder = builder.base_url(base.clone());
        }
        Ok(builder.build()?)
    }
}

/// The data directory's SQLite token cache.
fn sqlite_token_store(paths: &Paths) -> Result<std::sync::Arc<dyn wxmass_api::TokenStore>> {
    std::fs::create_dir_all(&paths.data)
        .with_context(|| format!("cannot create {}", paths.data.display()))?;
    let store = wxmass_api::SqliteStore::open(paths.token_store()).with_context(|| {
        format!(
            "cannot open the token cache {}",
            paths.token_store().display()
        )
    })?;
    Ok(std::sync::Arc::new(store))
}

/// Where access tokens are kept beside the journal: in the same PostgreSQL
/// database when `database` is one (every server and worker on it shares
/// one token per account: WeChat invalidates a token a few minutes after
/// the next is fetched), else in the data directory's SQLite token cache.
pub async fn token_store(
    database: Option<&str>,
    paths: &Paths,
) -> Result<std::sync::Arc<dyn wxmass_api::TokenStore>> {
    match database {
        Some(url) if !url.starts_with("sqlite:") => Ok(std::sync::Arc::new(
            wxmass_api::PostgresStore::connect(url)
                .await
                .context("cannot open the token store in the database")?,
        )),
        _ => sqlite_token_store(paths),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_round_trips_and_refuses_unknown_keys() {
        let mut file = ConfigFile {
            default_profile: Some("main".into()),
            ..Default::default()
        };
        file.profiles.insert(
            "main".into(),
            Profile {
                appid: Some("wx1".into()),
                secret: Some("s".into()),
                ..Default::default()
            },
        );
        let text = toml::to_string_pretty(&file).expect("toml");
        assert_eq!(toml::from_str::<ConfigFile>(&text).expect("parse"), file);
        assert!(toml::from_str::<ConfigFile>("[profiles.x]\nappsecret = 'typo'\n").is_err());
    }

    #[test]
    fn private_files_are_0600() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("c.toml");
        write_private(&path, b"x").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
