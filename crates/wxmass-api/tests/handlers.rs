//! The media, news, tags and users handlers against the emulator.

mod common;

use common::*;
use futures_util::TryStreamExt;
use wxmass_api::{Article, Audience, Errcode, Error, MediaContent, MediaKind, Message, Sent};

const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1,
];
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
const AMR: &[u8] = b"#!AMR\n\x3c\x48";
const MP4: &[u8] = b"\0\0\0\x18ftypmp42\0\0\0\0";

#[tokio::test]
async fn media_round_trip_and_checks() {
    let emu = default_emulator().await;
    let client = emu.client();
    let media = client.media();
    let up = media
        .upload(MediaKind::Image, "a.jpg", JPEG)
        .await
        .expect("upload");
    assert!(up.created_at > 0);
    match media.get(&up.media_id).await.expect("get") {
        MediaContent::File { content_type, data } => {
            assert_eq!(content_type, "image/jpeg");
            assert_eq!(data.as_ref(), JPEG);
        }
        other => panic!("{other:?}"),
    }
    let video = media
        .upload(MediaKind::Video, "v.mp4", MP4)
        .await
        .expect("video");
    assert!(matches!(
        media.get(&video.media_id).await.expect("get"),
        MediaContent::VideoUrl(_)
    ));
    let mpvideo = media
        .upload_video(&video.media_id, "T", "D")
        .await
        .expect("mpvideo");
    assert_ne!(mpvideo, video.media_id);
    let url = media
        .upload_article_image("p.png", PNG)
        .await
        .expect("uploadimg");
    assert!(url.starts_with("http://mmbiz.qpic.cn/"));
    let (id, image_url) = media
        .add_material(MediaKind::Image, "i.png", PNG, None)
        .await
        .expect("material");
    assert!(!id.is_empty() && image_url.is_some());
    media
        .add_material(MediaKind::Video, "v.mp4", MP4, Some(("Title", "Intro")))
        .await
        .expect("video material");
    // Refused before sending.
    for bad in [
        media
            .upload(MediaKind::Thumb, "a.png", PNG)
            .await
            .map(|_| ()),
        media
            .upload(MediaKind::Voice, "a.jpg", JPEG)
            .await
            .map(|_| ()),
        media
            .upload(MediaKind::Image, "e", Vec::<u8>::new())
            .await
            .map(|_| ()),
        media.upload_article_image("a.amr", AMR).await.map(|_| ()),
        media
            .add_material(MediaKind::Video, "v.mp4", MP4, None)
            .await
            .map(|_| ()),
    ] {
        assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
    }
    let mut big = JPEG.to_vec();
    big.resize(64 * 1024 + 1, 0);
    assert!(matches!(
        media.upload(MediaKind::Thumb, "big.jpg", big).await,
        Err(Error::Invalid(_))
    ));
    let err = media.get("no-such-media").await.expect_err("40007");
    assert_eq!(err.errcode(), Some(Errcode::InvalidMediaId));
}

#[tokio::test]
async fn news_upload_draft_and_send() {
    let emu = default_emulator().await;
    let client = emu.client();
    let thumb = client
        .media()
        .upload(MediaKind::Thumb, "c.jpg", JPEG)
        .await
        .expect("thumb")
        .media_id;
    let news = client
        .news()
        .upload(&[Article::new("Title", &thumb, "<p>body</p>")])
        .await
        .expect("news");
    let sent = client
        .mass()
        .send(&Message::mpnews(&news), &Audience::All)
        .await
        .expect("send");
    assert!(
        matches!(
            sent,
            Sent::Submitted {
                msg_data_id: Some(_),
                ..
            }
        ),
        "{sent:?}"
    );
    let (perm, _) = client
        .media()
        .add_material(MediaKind::Thumb, "c.jpg", JPEG, None)
        .await
        .expect("perm");
    client
        .news()
        .add_draft(&[Article::new("Draft", &perm, "<p>x</p>")])
        .await
        .expect("draft");
    let long = Article::new("标".repeat(33), &perm, "<p>x</p>");
    assert!(matches!(
        client.news().add_draft(&[long]).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        client.news().upload(&[]).await,
        Err(Error::Invalid(_))
    ));
    let nine: Vec<_> = (0..9).map(|_| Article::new("t", &thumb, "c")).collect();
    assert!(matches!(
        client.news().upload(&nine).await,
        Err(Error::Invalid(_))
    ));
    let err = client
        .news()
        .upload(&[Article::new("t", "not-a-thumb", "c")])
        .await
        .expect_err("40007");
    assert_eq!(err.errcode(), Some(Errcode::InvalidMediaId));
}

#[tokio::test]
async fn tags_lifecycle_members_and_groups() {
    let emu = default_emulator().await;
    let client = emu.client();
    let tags = client.tags();
    let tag = tags.create("vip").await.expect("create");
    assert_eq!(tag.name, "vip");
    assert!(matches!(
        tags.create(&"x".repeat(31)).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        tags.create("vip").await.expect_err("dup").errcode(),
        Some(Errcode::InvalidTagName)
    );
    tags.rename(tag.id, "gold").await.expect("rename");
    assert_eq!(
        tags.rename(2, "x").await.expect_err("system").errcode(),
        Some(Errcode::SystemTag)
    );
    let users = client
        .users()
        .followers_page(None)
        .await
        .expect("followers")
        .openids;
    // 40 users in chunks of 50: one request; 120 openids would be three.
    tags.tag_users(tag.id, &users).await.expect("tag");
    let members: Vec<Vec<String>> = tags.members(tag.id).try_collect().await.expect("members");
    assert_eq!(members.concat().len(), 40);
    assert!(
        tags.of_user(&users[0])
            .await
            .expect("of user")
            .contains(&tag.id)
    );
    tags.untag_users(tag.id, &users[..10]).await.expect("untag");
    let listed = tags.list().await.expect("list");
    assert_eq!(
        listed.iter().find(|t| t.id == tag.id).map(|t| t.count),
        Some(30)
    );
    assert!(
        tags.groups()
            .await
            .expect("groups")
            .iter()
            .any(|g| g.id == 0)
    );
    tags.delete(tag.id).await.expect("delete");
    assert_eq!(
        tags.delete(tag.id).await.expect_err("gone").errcode(),
        Some(Errcode::InvalidTagId)
    );
}

#[tokio::test]
async fn followers_stream_and_info() {
    let emu = emulator(wxmass_emulator::EmulatorConfig {
        followers: 23_456,
        ..Default::default()
    })
    .await;
    let client = emu.client();
    let pages: Vec<Vec<String>> = client
        .users()
        .followers()
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(pages.len(), 3);
    assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 23_456);
    let first = &pages[0][0];
    let info = client.users().info(first).await.expect("info");
    assert_eq!((info.subscribe, info.openid.as_str()), (1, first.as_str()));
    // 250 users: three batchget requests of at most 100.
    let infos = client
        .users()
        .batch_info(&pages[0][..250])
        .await
        .expect("batch");
    assert_eq!(infos.len(), 250);
    assert_eq!(emu.stats().await["calls"]["/cgi-bin/user/info/batchget"], 3);
    assert_eq!(
        client
            .users()
            .info("nobody")
            .await
            .expect_err("40003")
            .errcode(),
        Some(Errcode::InvalidOpenId)
    );
}

#[tokio::test]
async fn sent_articles_can_be_deleted() {
    let emu = default_emulator().await;
    let client = emu.client();
    let thumb = client
        .media()
        .upload(MediaKind::Thumb, "c.jpg", JPEG)
        .await
        .expect("thumb")
        .media_id;
    let news = client
        .news()
        .upload(&[
            Article::new("One", &thumb, "<p>1</p>"),
            Article::new("Two", &thumb, "<p>2</p>"),
        ])
        .await
        .expect("news");
    let msg_id = client
        .mass()
        .send(&Message::mpnews(&news), &Audience::All)
        .await
        .expect("send")
        .msg_id()
        .expect("id");
    let mut status = client.mass().get(msg_id).await.expect("get");
    for _ in 0..200 {
        if status.is_final() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        status = client.mass().get(msg_id).await.expect("get");
    }
    assert_eq!(status, wxmass_api::JobStatus::SendSuccess);
    let err = client
        .mass()
        .delete(msg_id, 3)
        .await
        .expect_err("only two articles");
    assert_eq!(err.errcode(), Some(Errcode::InvalidArticleIdx));
    client.mass().delete(msg_id, 0).await.expect("delete");
    assert_eq!(
        client.mass().get(msg_id).await.expect("get"),
        wxmass_api::JobStatus::Deleted
    );
}
