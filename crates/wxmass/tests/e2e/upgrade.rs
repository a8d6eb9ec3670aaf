//! A journal written by the release before the engine crate: the CLI
//! upgrades it in place, shows its campaigns as they were, and resumes the
//! campaign it left unfinished, each follower getting the message once.

use crate::common;

use common::*;

#[test]
fn an_unfinished_campaign_of_the_last_release_resumes_after_the_upgrade() {
    // The fixture's openids are the default account's first 60 followers.
    let (_emu, url) = emulator(60, &[]);
    let home = tempfile::tempdir().expect("home");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../wxmass-campaign/tests/data/journal-v1.db"
        ),
        home.path().join("journal.db"),
    )
    .expect("the fixture");

    let campaigns = success_json(wxmass(home.path(), &url).args(["campaigns", "--json"]));
    assert_eq!(campaigns.as_array().map(Vec::len), Some(5), "{campaigns}");
    let before =
        success_json(wxmass(home.path(), &url).args(["status", "v1-unfinished", "--json"]));
    assert_eq!(before["batches"][0]["state"], "submitting");
    assert_eq!(before["batches"][1]["state"], "planned");
    let done = success_json(wxmass(home.path(), &url).args(["status", "v1-text", "--json"]));
    assert_eq!(done["submitted"], 3);
    assert_eq!(done["batches"][2]["report"]["sent_count"], 5);

    // The same command as before the upgrade (the list is read again but
    // the campaign keeps the openids it planned).
    let list = follower_list(home.path(), &url);
    let after = success_json(
        wxmass(home.path(), &url)
            .args(["send", "--text", "unfinished", "--openids"])
            .arg(&list)
            .args([
                "--batch-size",
                "10",
                "--campaign",
                "v1-unfinished",
                "--json",
                "--no-wait",
            ]),
    );
    assert_eq!(after["submitted"], 2, "{after}");
    // The jobs finish a moment later.
    let mut stats = admin(&url, "GET", "/_emulator/stats", "");
    for _ in 0..100 {
        if stats["deliveries"] == 20 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        stats = admin(&url, "GET", "/_emulator/stats", "");
    }
    assert_eq!(stats["deliveries"], 20, "{stats}");
    assert_eq!(stats["duplicate_deliveries"], 0);

    // Its content is what the old release planned: other text is refused.
    wxmass(home.path(), &url)
        .args(["send", "--text", "something else", "--openids"])
        .arg(&list)
        .args(["--batch-size", "10", "--campaign", "v1-unfinished"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "already exists with other content",
        ));
}
