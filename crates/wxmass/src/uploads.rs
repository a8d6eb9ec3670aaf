//! Uploads made once: each media id (and URL) is journalled under the hash
//! of what was uploaded as soon as WeChat hands it back, so a rerun, or
//! another campaign with the same picture, reuses it instead of uploading
//! again.

use anyhow::Result;
use wxmass_campaign::{FileRef, Journal, beijing};

/// How long a temporary upload (3 days at WeChat) is reused: long enough
/// for any rerun, short enough that the message is sent before it expires.
pub const TEMPORARY_REUSE_SECONDS: i64 = 2 * 86_400;

/// The upload time after which a journalled id is still good: any for
/// permanent material, the last [`TEMPORARY_REUSE_SECONDS`] for temporary.
pub fn reusable_after(temporary: bool) -> i64 {
    if temporary {
        beijing::now() - TEMPORARY_REUSE_SECONDS
    } else {
        0
    }
}

/// The id (and URL) the journal has for bytes hashing to `hash` under
/// `key`, or the result of `upload`, journalled at once. `temporary`: reuse
/// only a recent upload. `label` names the upload on the terminal.
pub async fn upload_once(
    journal: &Journal,
    hash: &str,
    key: &str,
    temporary: bool,
    label: &str,
    upload: impl AsyncFnOnce() -> Result<(String, Option<String>)>,
) -> Result<String> {
    if let Some(id) = journal.media(hash, key, reusable_after(temporary)).await? {
        return Ok(id);
    }
    let working = crate::progress::Working::new(format!("uploading {label}"));
    let (id, url) = upload().await?;
    drop(working);
    journal.record_media(hash, key, &id, url.as_deref()).await?;
    eprintln!("uploaded {label}");
    Ok(id)
}

/// [`upload_once`] for a file the campaign keeps: `upload` gets its name
/// and the bytes planned (from the journal).
pub async fn upload_file(
    journal: &Journal,
    file: &FileRef,
    key: &str,
    upload: impl AsyncFnOnce(&str, Vec<u8>) -> Result<(String, Option<String>)>,
) -> Result<String> {
    let label = file.path.display().to_string();
    upload_once(journal, &file.sha256, key, false, &label, async || {
        let data = journal.file(file).await?;
        upload(file.file_name(), data).await
    })
    .await
}
