//! The full push path on one core: verify `signature` and `msg_signature`,
//! decrypt, parse a ~1 KB MASSSENDJOBFINISH with a copyright result, and a
//! TEMPLATESENDJOBFINISH (read by the general reader).
//!
//! `cargo bench -p wxmass-callback --bench push_path`; `bench/callback-vs-wechatpy.sh`
//! runs it beside wechatpy and prints the ratio.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use wxmass_callback::event::EventError;
use wxmass_callback::xml::Document;
use wxmass_callback::{Push, open_push};

#[path = "fixture.rs"]
mod fixture;

fn push_path(c: &mut Criterion) {
    let f = fixture::fixture();
    let config = f.config();
    let query = f.query();
    let now = f.now();
    let opened = open_push(&config, &query, f.body.as_bytes(), now).expect("fixture opens");
    assert!(matches!(opened.push, Push::MassSendJobFinish(_)));

    let mut group = c.benchmark_group("push_path");
    group.throughput(Throughput::Elements(1));
    group.bench_function("safe_mode_masssendjobfinish", |b| {
        b.iter(|| {
            open_push(
                &config,
                black_box(&query),
                black_box(f.body.as_bytes()),
                now,
            )
        })
    });
    // The decrypted message alone: WeChat's layout takes the fast path; the
    // general reader is what every other layout gets.
    group.bench_function("parse_only", |b| {
        b.iter(|| Push::parse(black_box(&f.plaintext)))
    });
    let t = fixture::template_fixture();
    let t_query = t.query();
    let opened = open_push(&config, &t_query, t.body.as_bytes(), now).expect("template opens");
    assert!(matches!(opened.push, Push::TemplateSendJobFinish(_)));
    group.bench_function("safe_mode_templatesendjobfinish", |b| {
        b.iter(|| {
            open_push(
                &config,
                black_box(&t_query),
                black_box(t.body.as_bytes()),
                now,
            )
        })
    });
    group.bench_function("parse_only_templatesendjobfinish", |b| {
        b.iter(|| Push::parse(black_box(&t.plaintext)))
    });
    group.bench_function("parse_only_general_reader", |b| {
        b.iter(|| {
            Document::parse(black_box(&f.plaintext))
                .map_err(EventError::from)
                .and_then(|doc| Push::from_document(&doc))
        })
    });
    group.finish();
}

criterion_group!(benches, push_path);
criterion_main!(benches);
