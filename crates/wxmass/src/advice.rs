//! Errors that say what to do: WeChat's errcodes turned into next steps
//! (the words are wxmass-api's, shared with the server).

/// A line of advice for an error, when there is one.
pub fn advice(error: &anyhow::Error) -> Option<String> {
    error.downcast_ref::<wxmass_api::Error>()?.advice()
}
