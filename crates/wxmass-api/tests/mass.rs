//! The mass handler against the in-process emulator.

mod common;

use common::*;
use wxmass_api::{Audience, ClientMsgId, Errcode, Error, JobStatus, Message, PreviewTarget, Sent};

async fn first_tag(emu: &Emu) -> u32 {
    let jobs = emu.admin_get("/_emulator/account").await;
    assert!(jobs["appid"].is_string());
    100
}

async fn openids(emu: &Emu, n: usize) -> Vec<String> {
    let v = emu
        .admin_post("/_emulator/followers", serde_json::json!({"count": n}))
        .await;
    v["openids"]
        .as_array()
        .expect("openids")
        .iter()
        .map(|o| o.as_str().expect("str").to_owned())
        .collect()
}

async fn wait(client: &wxmass_api::Client, msg_id: i64) -> JobStatus {
    for _ in 0..200 {
        let status = client.mass().get(msg_id).await.expect("get");
        if status.is_final() {
            return status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("job {msg_id} never finished");
}

#[tokio::test]
async fn send_to_a_tag_then_get() {
    let emu = default_emulator().await;
    let client = emu.client();
    let tag = first_tag(&emu).await;
    let sent = client
        .mass()
        .send(&Message::text("hello"), &Audience::Tag(tag))
        .await
        .expect("send");
    let Sent::Submitted {
        msg_id,
        msg_data_id,
        clientmsgid,
    } = sent
    else {
        panic!("expected a new job, got {sent:?}")
    };
    assert!(msg_data_id.is_none());
    assert!(
        clientmsgid.is_some(),
        "every send carries a clientmsgid by default"
    );
    assert_eq!(wait(&client, msg_id).await, JobStatus::SendSuccess);
    // The same send again is recognised, not repeated.
    let again = client
        .mass()
        .send(&Message::text("hello"), &Audience::Tag(tag))
        .await
        .expect("send");
    assert!(matches!(again, Sent::AlreadySubmitted { .. }), "{again:?}");
    emu.advance(61).await;
    let later = client
        .mass()
        .send(&Message::text("hello"), &Audience::Tag(tag))
        .await
        .expect("send");
    assert_eq!(
        later,
        Sent::AlreadySubmitted {
            msg_id: Some(msg_id),
            clientmsgid: later_id(&later)
        }
    );
}

fn later_id(sent: &Sent) -> String {
    match sent {
        Sent::AlreadySubmitted { clientmsgid, .. } => clientmsgid.clone(),
        Sent::Submitted { clientmsgid, .. } => clientmsgid.clone().unwrap_or_default(),
    }
}

#[tokio::test]
async fn send_to_openids_and_validation() {
    let emu = default_emulator().await;
    let client = emu.client();
    let users = openids(&emu, 3).await;
    let sent = client
        .mass()
        .send_with(
            &Message::text("hi"),
            &Audience::OpenIds(users.clone()),
            ClientMsgId::Given("batch-0".into()),
        )
        .await
        .expect("send");
    assert!(matches!(sent, Sent::Submitted { .. }));
    // Refused before anything is sent.
    let before = emu.stats().await["calls"].clone();
    for bad in [
        client
            .mass()
            .send(
                &Message::text("hi"),
                &Audience::OpenIds(users[..1].to_vec()),
            )
            .await,
        client.mass().send(&Message::text(""), &Audience::All).await,
        client
            .mass()
            .send_with(
                &Message::text("hi"),
                &Audience::All,
                ClientMsgId::Given("x".repeat(33)),
            )
            .await,
    ] {
        assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
    }
    assert_eq!(emu.stats().await["calls"], before, "no request left");
}

#[tokio::test]
async fn api_errors_carry_the_errcode_and_rid() {
    let emu = default_emulator().await;
    let client = emu.client();
    let err = client
        .mass()
        .send(&Message::mpnews("nope"), &Audience::All)
        .await
        .expect_err("40007");
    match &err {
        Error::Api {
            code, rid, path, ..
        } => {
            assert_eq!(*code, Errcode::InvalidMediaId);
            assert!(rid.is_some());
            assert_eq!(path, "/cgi-bin/message/mass/sendall");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("40007"));
    assert_eq!(
        client.mass().get(12345).await.expect_err("40059").errcode(),
        Some(Errcode::InvalidMsgId)
    );
}

#[tokio::test]
async fn preview_delete_and_speed() {
    let emu = default_emulator().await;
    let client = emu.client();
    let users = openids(&emu, 1).await;
    client
        .mass()
        .preview(
            &Message::text("p"),
            &PreviewTarget::OpenId(users[0].clone()),
        )
        .await
        .expect("preview");
    client
        .mass()
        .preview(
            &Message::text("p"),
            &PreviewTarget::WeChatId("someone".into()),
        )
        .await
        .expect("preview");
    client.mass().set_speed(2).await.expect("set");
    let speed = client.mass().speed().await.expect("speed");
    assert_eq!((speed.speed, speed.realspeed), (2, 45));
    assert!(matches!(
        client.mass().set_speed(7).await,
        Err(Error::Invalid(_))
    ));
    let err = client.mass().delete(999, 0).await.expect_err("40059");
    assert_eq!(err.errcode(), Some(Errcode::InvalidMsgId));
}
