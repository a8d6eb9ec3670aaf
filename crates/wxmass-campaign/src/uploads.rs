//! Uploads made once: a media id is kept in the store under the hash of
//! what was uploaded the moment WeChat hands it back, and reused by every
//! rerun, worker and campaign that needs the same bytes.

use crate::beijing;
use crate::error::Result;
use crate::store::prelude::*;

/// What preparing tells its face (a spinner, a log line): each upload as
/// it starts and once it is journalled.
pub trait UploadObserver: Send + Sync {
    /// `what` (a file, a picture of an article) is being uploaded.
    fn uploading(&self, what: &str) {
        let _ = what;
    }
    /// `what` was uploaded and its id journalled.
    fn uploaded(&self, what: &str) {
        let _ = what;
    }
}

/// An observer that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl UploadObserver for Silent {}

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

/// The id `appid`'s uploads have for bytes hashing to `hash` under `key`,
/// or the result of `upload`, kept at once. `temporary`: reuse only a
/// recent upload. `label` names it to the observer.
#[allow(clippy::too_many_arguments)] // each is a distinct fact of the upload
pub async fn upload_once(
    journal: &dyn Store,
    appid: &str,
    hash: &str,
    key: &str,
    temporary: bool,
    label: &str,
    observer: &dyn UploadObserver,
    upload: impl AsyncFnOnce() -> Result<(String, Option<String>)>,
) -> Result<String> {
    if let Some(id) = journal
        .media(appid, hash, key, reusable_after(temporary))
        .await?
    {
        return Ok(id);
    }
    observer.uploading(label);
    let (id, url) = upload().await?;
    journal
        .record_media(appid, hash, key, &id, url.as_deref())
        .await?;
    observer.uploaded(label);
    Ok(id)
}
