//! Comments against the emulator: opened on a sent article, 120 follower
//! comments listed in pages of 49, featured, replied once, deleted; the
//! 1-based article of datacube reaches the 0-based index of comments.

mod common;

use common::*;
use futures_util::TryStreamExt;
use wxmass_api::Errcode;
use wxmass_api::api::comments::{ArticleRef, Which};
use wxmass_api::api::datacube::ArticleIndex;

#[tokio::test]
async fn comments_are_paged_featured_replied_and_deleted() {
    let emu = default_emulator().await;
    let client = emu.client();
    let (_, data_id) = send_articles(&client, &["One", "Two"]).await;
    let second = ArticleRef::new(data_id, ArticleIndex::new(2).expect("2"));
    let comment = |n: usize| serde_json::json!({"msg_data_id": data_id, "index": 1, "content": format!("comment {n}")});
    let closed = emu.admin_post("/_emulator/comments", comment(0)).await;
    assert!(
        closed["error"]
            .as_str()
            .is_some_and(|e| e.contains("88000")),
        "closed: {closed}"
    );
    client.comments().open(second).await.expect("open");
    for n in 1..=120 {
        let added = emu.admin_post("/_emulator/comments", comment(n)).await;
        assert!(added["user_comment_id"].as_i64().is_some(), "{added}");
    }
    let before = emu.stats().await["calls"]["/cgi-bin/comment/list"]
        .as_u64()
        .unwrap_or(0);
    let all: Vec<_> = client
        .comments()
        .all(second, Which::All)
        .try_collect()
        .await
        .expect("all");
    assert_eq!(all.len(), 120);
    assert_eq!(all[0].content, "comment 1");
    assert_eq!(all[119].content, "comment 120");
    let pages = emu.stats().await["calls"]["/cgi-bin/comment/list"]
        .as_u64()
        .unwrap_or(0)
        - before;
    assert_eq!(pages, 3, "120 in pages of 49");
    assert!(
        client
            .comments()
            .page(second, 0, 50, Which::All)
            .await
            .is_err(),
        "under 50 a page"
    );

    let first_id = all[0].user_comment_id;
    client
        .comments()
        .feature(second, first_id)
        .await
        .expect("feature");
    client
        .comments()
        .reply(second, first_id, "谢谢！")
        .await
        .expect("reply");
    let again = client
        .comments()
        .reply(second, first_id, "again")
        .await
        .expect_err("once");
    assert_eq!(again.errcode(), Some(Errcode::AlreadyReplied), "{again}");
    let (total, featured) = client
        .comments()
        .page(second, 0, 10, Which::Featured)
        .await
        .expect("featured");
    assert_eq!(total, 1);
    assert!(featured[0].is_featured());
    assert_eq!(
        featured[0].reply.as_ref().map(|r| r.content.as_str()),
        Some("谢谢！")
    );
    client
        .comments()
        .delete(second, all[1].user_comment_id)
        .await
        .expect("delete");
    let (total, _) = client
        .comments()
        .page(second, 0, 1, Which::All)
        .await
        .expect("page");
    assert_eq!(total, 119);
    // The first article is another thread, closed.
    let first = ArticleRef::new(data_id, ArticleIndex::new(1).expect("1"));
    let (total, _) = client
        .comments()
        .page(first, 0, 1, Which::All)
        .await
        .expect("page");
    assert_eq!(total, 0);
    let missing = ArticleRef::new(data_id, ArticleIndex::new(3).expect("3"));
    assert!(
        client.comments().open(missing).await.is_err(),
        "there is no third article"
    );
}
