//! Mass messages (wechat-api.md §9–§14): send to all, a tag or openids,
//! preview, status, delete, speed. Reach it with [`Client::mass`].

use serde_json::{Value, json};

use crate::client::{Body, Call, Client};
use crate::error::{Errcode, Error, Result};
use crate::message::{
    Audience, Message, PreviewTarget, derive_clientmsgid, preview_body, send_body_json,
    validate_clientmsgid,
};

/// How a send is made safe to repeat.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ClientMsgId {
    /// Derived from content and audience (the default).
    #[default]
    Derived,
    /// The caller's (at most 32 bytes): use one per batch of a campaign.
    Given(String),
    /// None: the send is never retried after an unclear failure.
    Omit,
}

/// The outcome of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// WeChat accepted a new job.
    Submitted {
        /// The job's id.
        msg_id: i64,
        /// For mpnews: the data id used by analytics and comments.
        msg_data_id: Option<i64>,
        /// The clientmsgid sent, if any.
        clientmsgid: Option<String>,
    },
    /// A job with this clientmsgid already exists: nothing new was sent.
    /// `msg_id` is known from 45065; after a retry within a minute (45066)
    /// it is not, and sending again a minute later returns it.
    AlreadySubmitted {
        /// The existing job, when WeChat said which.
        msg_id: Option<i64>,
        /// The clientmsgid.
        clientmsgid: String,
    },
}

impl Sent {
    /// The job's msg_id, when known.
    pub fn msg_id(&self) -> Option<i64> {
        match self {
            Sent::Submitted { msg_id, .. } => Some(*msg_id),
            Sent::AlreadySubmitted { msg_id, .. } => *msg_id,
        }
    }
}

/// A job's status from `mass/get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    /// Still sending.
    Sending,
    /// Sent.
    SendSuccess,
    /// Failed.
    SendFail,
    /// Deleted.
    Deleted,
    /// Anything else, verbatim.
    Other(String),
}

impl JobStatus {
    fn parse(s: &str) -> JobStatus {
        match s {
            "SENDING" => JobStatus::Sending,
            "SEND_SUCCESS" => JobStatus::SendSuccess,
            "SEND_FAIL" => JobStatus::SendFail,
            "DELETE" => JobStatus::Deleted,
            other => JobStatus::Other(other.to_owned()),
        }
    }

    /// WeChat's name for it (`SENDING`, `SEND_SUCCESS`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Sending => "SENDING",
            JobStatus::SendSuccess => "SEND_SUCCESS",
            JobStatus::SendFail => "SEND_FAIL",
            JobStatus::Deleted => "DELETE",
            JobStatus::Other(s) => s,
        }
    }

    /// Whether the job will not change any more (apart from a delete).
    pub fn is_final(&self) -> bool {
        !matches!(self, JobStatus::Sending)
    }
}

/// The speed level (§14): 0 fastest (800,000 a minute) .. 4 slowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Speed {
    /// The level.
    pub speed: u8,
    /// Messages a minute, in units of 10,000.
    pub realspeed: u32,
}

/// Mass-message calls.
#[derive(Debug, Clone)]
pub struct MassHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Mass messages: send, preview, status, delete, speed.
    pub fn mass(&self) -> MassHandler<'_> {
        MassHandler { client: self }
    }
}

fn decode(path: &str, message: &str) -> Error {
    Error::Decode {
        path: path.into(),
        message: message.into(),
    }
}

impl MassHandler<'_> {
    /// Sends to every follower, a tag, or a list of openids, with a derived
    /// clientmsgid (so that a retry can never deliver twice).
    ///
    /// `POST /cgi-bin/message/mass/sendall` or `/cgi-bin/message/mass/send`.
    ///
    /// ```no_run
    /// # async fn run(client: wxmass_api::Client) -> wxmass_api::Result<()> {
    /// use wxmass_api::{Audience, Message};
    /// let sent = client.mass().send(&Message::text("Hello"), &Audience::All).await?;
    /// println!("job {:?}", sent.msg_id());
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, message: &Message, audience: &Audience) -> Result<Sent> {
        self.send_with(message, audience, ClientMsgId::Derived)
            .await
    }

    /// Sends with an explicit clientmsgid policy.
    pub async fn send_with(
        &self,
        message: &Message,
        audience: &Audience,
        id: ClientMsgId,
    ) -> Result<Sent> {
        message.validate()?;
        audience.validate()?;
        let clientmsgid = match id {
            ClientMsgId::Derived => Some(derive_clientmsgid(message, audience)),
            ClientMsgId::Given(id) => {
                validate_clientmsgid(&id)?;
                Some(id)
            }
            ClientMsgId::Omit => None,
        };
        let path = match audience {
            Audience::OpenIds(_) => "/cgi-bin/message/mass/send",
            _ => "/cgi-bin/message/mass/sendall",
        };
        let mut call = Call::post_body(
            path,
            Body::Json(send_body_json(message, audience, clientmsgid.as_deref())),
        );
        if clientmsgid.is_none() {
            // Without a clientmsgid a repeat could deliver twice.
            call = call.unsafe_to_repeat();
        }
        match self.client.call(call).await {
            Ok(body) => Ok(Sent::Submitted {
                msg_id: body
                    .get("msg_id")
                    .and_then(crate::client::as_i64)
                    .ok_or_else(|| decode(path, "no msg_id"))?,
                msg_data_id: body.get("msg_data_id").and_then(crate::client::as_i64),
                clientmsgid,
            }),
            Err(Error::Api {
                code: Errcode::ClientMsgIdExist,
                msg_id,
                ..
            }) if clientmsgid.is_some() => {
                // Our own earlier attempt, or the caller's: the job exists.
                Ok(Sent::AlreadySubmitted {
                    msg_id,
                    clientmsgid: clientmsgid.unwrap_or_default(),
                })
            }
            Err(Error::Api {
                code: Errcode::ClientMsgIdRetryTooFast,
                ..
            }) if clientmsgid.is_some() => Ok(Sent::AlreadySubmitted {
                msg_id: None,
                clientmsgid: clientmsgid.unwrap_or_default(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Sends a preview to one follower or WeChat ID. Never retried after an
    /// unclear failure: a preview reaches a phone.
    ///
    /// `POST /cgi-bin/message/mass/preview`.
    pub async fn preview(&self, message: &Message, to: &PreviewTarget) -> Result<Option<i64>> {
        message.validate()?;
        let call = Call::post("/cgi-bin/message/mass/preview", preview_body(message, to))
            .unsafe_to_repeat();
        let body = self.client.call(call).await?;
        Ok(body.get("msg_id").and_then(crate::client::as_i64))
    }

    /// A job's status.
    ///
    /// `POST /cgi-bin/message/mass/get`.
    pub async fn get(&self, msg_id: i64) -> Result<JobStatus> {
        let path = "/cgi-bin/message/mass/get";
        let body = self
            .client
            .call(Call::post(path, json!({"msg_id": msg_id})))
            .await?;
        let status = body
            .get("msg_status")
            .and_then(Value::as_str)
            .ok_or_else(|| decode(path, "no msg_status"))?;
        Ok(JobStatus::parse(status))
    }

    /// Deletes a sent mpnews or mpvideo job; `article_idx` 0 deletes every
    /// article, N the N-th (1-based).
    ///
    /// `POST /cgi-bin/message/mass/delete`.
    pub async fn delete(&self, msg_id: i64, article_idx: u32) -> Result<()> {
        let body = json!({"msg_id": msg_id, "article_idx": article_idx});
        self.client
            .call(Call::post("/cgi-bin/message/mass/delete", body))
            .await?;
        Ok(())
    }

    /// The speed level.
    ///
    /// `POST /cgi-bin/message/mass/speed/get`.
    pub async fn speed(&self) -> Result<Speed> {
        let path = "/cgi-bin/message/mass/speed/get";
        let body = self.client.call(Call::post(path, json!({}))).await?;
        let speed = body
            .get("speed")
            .and_then(Value::as_u64)
            .ok_or_else(|| decode(path, "no speed"))?;
        Ok(Speed {
            speed: u8::try_from(speed).map_err(|_| decode(path, "speed out of range"))?,
            realspeed: body.get("realspeed").and_then(Value::as_u64).unwrap_or(0) as u32,
        })
    }

    /// Sets the speed level (0 fastest .. 4 slowest).
    ///
    /// `POST /cgi-bin/message/mass/speed/set`.
    pub async fn set_speed(&self, speed: u8) -> Result<()> {
        if speed > 4 {
            return Err(Error::Invalid(format!("speed must be 0 to 4, not {speed}")));
        }
        self.client
            .call(Call::post(
                "/cgi-bin/message/mass/speed/set",
                json!({"speed": speed}),
            ))
            .await?;
        Ok(())
    }
}
