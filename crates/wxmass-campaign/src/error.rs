//! The engine's errors, one variant per kind of refusal, so that each face
//! can answer in its own way (the CLI with a sentence and an exit status,
//! the server with an HTTP status).

/// What went wrong, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The journal cannot be opened or used: the sentence says why and what
    /// to do; the cause, when there is one, follows.
    #[error("{advice}")]
    Store {
        /// What is wrong and what to do.
        advice: String,
        /// The database's own error.
        #[source]
        source: Option<rusqlite::Error>,
    },
    /// The journal was written by a newer wxmass.
    #[error(
        "the journal was written by a newer wxmass (schema {found}, this build knows {known}): upgrade wxmass; the journal is untouched"
    )]
    NewerSchema {
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// WeChat would refuse the send, or deliver it to nobody, for the
    /// account's quota; the sentence says when it returns.
    #[error("quota: {0}")]
    Quota(String),
    /// The input cannot become a campaign (the sentence names what and why).
    #[error("{0}")]
    Invalid(String),
    /// Something with that name exists already (a user, an account).
    #[error("{0}")]
    Exists(String),
    /// A step a campaign's state does not allow (approving a draft that
    /// was not submitted, pausing a finished one).
    #[error("campaign {id:?} is {state}: that cannot be done now")]
    WrongState {
        /// The campaign.
        id: String,
        /// Its state.
        state: &'static str,
    },
    /// A campaign exists under this id with other content.
    #[error("campaign {0:?} already exists with other content; choose another --campaign")]
    ContentChanged(String),
    /// A file the campaign keeps is missing from the journal and changed on
    /// disk since it was planned.
    #[error("{0} changed since the campaign was planned; use a new --campaign")]
    FileChanged(String),
    /// WeChat refused a batch (it is given back, `submitting`: a rerun
    /// resends it with its clientmsgid).
    #[error("batch {batch} was not sent")]
    Send {
        /// 1-based.
        batch: u32,
        /// WeChat's answer, or the network's.
        #[source]
        source: wxmass_api::Error,
    },
    /// WeChat refused a fan-out campaign's message itself (a template not
    /// the account's, a keyword breaking its rule, no permission): every
    /// other recipient would be refused the same way, so nothing more is
    /// sent. The recipients not reached stay planned.
    #[error("WeChat refused the campaign's {channel} message; nothing more is sent")]
    Refused {
        /// The channel.
        channel: &'static str,
        /// WeChat's answer.
        #[source]
        source: wxmass_api::Error,
    },
    /// The articles were published by an earlier submit the store did not
    /// record (its sender stopped between WeChat's answer and the record):
    /// nothing was submitted again.
    #[error(
        "these articles were published already (article_id {article_id}): an earlier submit went through but was not recorded; nothing submitted again"
    )]
    AlreadyPublished {
        /// What WeChat published.
        article_id: String,
        /// Each article's address.
        urls: Vec<String>,
    },
    /// WeChat took a publish that could not be recorded: submitting again
    /// would publish twice.
    #[error(
        "publish {publish_id} was submitted but could not be recorded; do not submit again before the publish list shows it"
    )]
    PublishUnrecorded {
        /// WeChat's id for it.
        publish_id: i64,
        /// Why it was not recorded.
        #[source]
        source: Box<Error>,
    },
    /// WeChat (or the network to it) failed a call made while planning.
    #[error(transparent)]
    Api(#[from] wxmass_api::Error),
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error::Store {
            advice: "the journal".to_owned(),
            source: Some(e),
        }
    }
}

/// The engine's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
