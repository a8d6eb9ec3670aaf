//! What a campaign sends, checked as the CLI checks it (by the engine's one
//! checker, `wxmass_campaign::checks`) before anything is stored, answered
//! with the path of the field at fault (`content.articles[2]`). Files are
//! those uploaded to the server (`POST /api/v1/files`), by SHA-256: a
//! campaign never names a path on the server's disk.

use wxmass_campaign::Content;
use wxmass_campaign::checks::{self, Kind, Problem, StoredFiles};
use wxmass_campaign::store::prelude::*;

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// Checks `content`; `Ok` means the server can prepare and send it. A
/// refusal names the first field at fault and says every problem.
pub async fn check(journal: &dyn Store, content: &Content) -> ApiResult<()> {
    refusal(&checks::check(&StoredFiles(journal), content).await?)
}

/// Checks a notice's template message against the templates of account
/// `appid` (asked of WeChat: its id is one of them, its data names their
/// keywords), as the CLI's `notify` does; after [`check`]. A WeChat that
/// cannot be asked is a 502.
pub async fn check_templates(state: &AppState, appid: &str, content: &Content) -> ApiResult<()> {
    if !matches!(
        content,
        Content::Notice {
            template: Some(_),
            ..
        }
    ) {
        return Ok(());
    }
    let (_, client) = crate::api::accounts::client(state, appid).await?;
    let library = client.templates().list().await.map_err(ApiError::wechat)?;
    refusal(&checks::check_template_keys(content, &library))
}

/// `Ok` for no problems, else a refusal naming the first field at fault
/// and saying every problem.
fn refusal(problems: &[Problem]) -> ApiResult<()> {
    let Some(first) = problems.first() else {
        return Ok(());
    };
    let mut message = said(first);
    for other in &problems[1..] {
        message.push_str(&format!("; {}: {}", other.field, said(other)));
    }
    Err(ApiError::invalid(&first.field, message))
}

/// A problem's sentence, the file first when one is at fault.
fn said(problem: &Problem) -> String {
    let mut out = match &problem.at {
        Some(at) => format!("{at}: {}", problem.message),
        None => problem.message.clone(),
    };
    if problem.kind == Kind::Missing {
        out.push_str(" (POST /api/v1/files)");
    }
    out
}
