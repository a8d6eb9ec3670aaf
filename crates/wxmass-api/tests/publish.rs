//! Free publishing against the emulator: a draft published (and gone from
//! the draft box), followed to its end, listed page by page, read and
//! deleted by its 1-based index; a publish the emulator is told to fail
//! ends with its status and the articles that failed.

mod common;

use std::time::Duration;

use common::*;
use futures_util::TryStreamExt;
use wxmass_api::api::datacube::ArticleIndex;
use wxmass_api::api::publish::{Publish, PublishStatus};
use wxmass_api::{Article, Client, MediaKind};

const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1,
];

async fn draft(client: &Client, titles: &[&str]) -> String {
    let (thumb, _) = client
        .media()
        .add_material(MediaKind::Thumb, "c.jpg", JPEG, None)
        .await
        .expect("thumb");
    let articles: Vec<Article> = titles
        .iter()
        .map(|t| Article::new(*t, &thumb, "<p>body</p>"))
        .collect();
    client.news().add_draft(&articles).await.expect("draft")
}

async fn until_final(client: &Client, publish_id: i64) -> Publish {
    for _ in 0..300 {
        let p = client.publish().get(publish_id).await.expect("get");
        if p.publish_status.is_final() {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("publish {publish_id} never ended");
}

#[tokio::test]
async fn a_draft_is_published_listed_read_and_deleted() {
    let emu = default_emulator().await;
    let client = emu.client();
    let media_id = draft(&client, &["First", "Second"]).await;
    let submitted = client.publish().submit(&media_id).await.expect("submit");
    assert!(submitted.msg_data_id.is_some(), "{submitted:?}");
    let done = until_final(&client, submitted.publish_id).await;
    assert_eq!(done.publish_status, PublishStatus::Success);
    assert!(!done.article_id.is_empty());
    assert_eq!(done.article_detail.item.len(), 2);
    assert_eq!(done.article_detail.item[1].idx.get(), 2, "counted from 1");
    let drafts = client.news().drafts_page(0, 20).await.expect("drafts");
    assert_eq!(
        drafts.total_count, 0,
        "a published draft leaves the draft box"
    );
    let err = client
        .publish()
        .submit(&media_id)
        .await
        .expect_err("the draft is gone");
    assert!(err.to_string().contains("40007"), "{err}");

    for title in ["Third", "Fourth"] {
        let media_id = draft(&client, &[title]).await;
        let id = client
            .publish()
            .submit(&media_id)
            .await
            .expect("submit")
            .publish_id;
        until_final(&client, id).await;
    }
    let all: Vec<_> = client
        .publish()
        .all(false)
        .try_collect()
        .await
        .expect("all");
    let titles: Vec<&str> = all
        .iter()
        .map(|p| p.content.news_item[0].title.as_str())
        .collect();
    assert_eq!(titles, ["Fourth", "Third", "First"], "newest first");
    assert!(
        all[0].content.news_item[0].content.is_none(),
        "asked without content"
    );
    assert!(
        client.publish().page(0, 21, false).await.is_err(),
        "20 a page at most"
    );

    let articles = client
        .publish()
        .article(&done.article_id)
        .await
        .expect("article");
    assert_eq!(articles[1].title, "Second");
    client
        .publish()
        .delete(&done.article_id, ArticleIndex::new(2))
        .await
        .expect("delete the second");
    let articles = client
        .publish()
        .article(&done.article_id)
        .await
        .expect("article");
    assert_eq!(
        (articles[0].is_deleted, articles[1].is_deleted),
        (false, true)
    );
}

#[tokio::test]
async fn a_failed_publish_says_how_and_which() {
    let emu = default_emulator().await;
    let client = emu.client();
    let queued = emu
        .admin_post(
            "/_emulator/publish_outcome",
            serde_json::json!({"status": 2, "fail_idx": [1]}),
        )
        .await;
    assert_eq!(queued["queued"], 1, "{queued}");
    let media_id = draft(&client, &["Copied"]).await;
    let id = client
        .publish()
        .submit(&media_id)
        .await
        .expect("submit")
        .publish_id;
    let done = until_final(&client, id).await;
    assert_eq!(done.publish_status, PublishStatus::OriginalityFailed);
    assert!(done.article_id.is_empty());
    assert_eq!(done.fail_idx, vec![ArticleIndex::new(1).expect("1")]);
    let drafts = client.news().drafts_page(0, 20).await.expect("drafts");
    assert_eq!(drafts.total_count, 1, "a failed publish leaves its draft");
    let bad = emu
        .admin_post(
            "/_emulator/publish_outcome",
            serde_json::json!({"status": 1}),
        )
        .await;
    assert!(bad["error"].as_str().is_some(), "{bad}");
}
