//! Openid lists: read once to check every line and find the repeats, then
//! cut into batches streamed from the file, so memory stays small however
//! long the list is (8 bytes an openid while reading, one batch while
//! writing).
//!
//! Repeats are found without keeping the openids: each line's 64-bit hash
//! is sorted; the lines whose hash is shared are found by reading again and
//! compared by a second, independent hash, so two different openids are
//! taken for one only if both 64-bit hashes agree.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::spec::PlannedBatch;

/// The most openids one `mass/send` takes, and the fewest.
pub const MAX_BATCH: u32 = 10_000;
/// The fewest openids one `mass/send` takes.
pub const MIN_BATCH: u64 = 2;

/// The longest openid accepted (WeChat's are 28 characters).
const MAX_OPENID_LEN: usize = 64;

/// Calls `f` with each openid of a list file (one per line; blank lines
/// and surrounding white space skipped), refusing any line that is not an
/// openid, with its number.
pub fn each_openid<E: From<Error>>(
    path: &Path,
    mut f: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let read_error = |source| Error::Read {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut line = String::new();
    let mut n = 0u64;
    loop {
        line.clear();
        n += 1;
        if reader.read_line(&mut line).map_err(read_error)? == 0 {
            return Ok(());
        }
        let openid = line.trim();
        if openid.is_empty() {
            continue;
        }
        if openid.len() > MAX_OPENID_LEN
            || openid.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::Invalid(format!(
                "{}: line {n} is not an openid: {openid:?}",
                path.display()
            ))
            .into());
        }
        f(openid)?;
    }
}

fn hash_of(openid: &str, salt: u8) -> u64 {
    let mut h = DefaultHasher::new();
    salt.hash(&mut h);
    openid.hash(&mut h);
    h.finish()
}

/// An openid list, checked, with its repeats found.
#[derive(Debug)]
pub struct OpenIdList {
    path: PathBuf,
    /// Openids, repeats included.
    count: u64,
    /// Hex SHA-256 of the openids in order: part of a campaign's id.
    digest: String,
    /// Bit i: the i-th openid repeats an earlier one.
    repeats: Vec<u64>,
    distinct: u64,
    /// The openids' hashes, sorted, each once: kept for the per-follower
    /// quota count, dropped with [`OpenIdList::forget_hashes`].
    hashes: Vec<u64>,
}

impl OpenIdList {
    /// Reads and checks the list at `path`: at least two openids, every
    /// line an openid.
    pub fn read(path: &Path) -> Result<OpenIdList> {
        let mut digest = Sha256::new();
        // Sized once from the file (an openid is 28 characters and a
        // newline), not grown by doubling.
        let expected = std::fs::metadata(path).map_or(0, |m| m.len() / 29) as usize;
        let mut keys: Vec<u64> = Vec::with_capacity(expected.saturating_add(16));
        let mut count: u64 = 0;
        each_openid::<Error>(path, |openid| {
            digest.update(openid.as_bytes());
            digest.update(b"\n");
            if u32::try_from(count).is_err() {
                return Err(Error::Invalid(format!(
                    "{} has more than {} openids; split it",
                    path.display(),
                    u32::MAX
                )));
            }
            keys.push(hash_of(openid, 0));
            count += 1;
            Ok(())
        })?;
        if count < MIN_BATCH {
            return Err(Error::Invalid(format!(
                "mass/send needs at least 2 openids; {} has {count}",
                path.display()
            )));
        }
        keys.sort_unstable();
        // Hashes more than one line has.
        let mut shared: Vec<u64> = keys
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        shared.dedup();
        let mut repeats = vec![0u64; (count as usize).div_ceil(64)];
        if !shared.is_empty() {
            // Read again: the lines with a shared hash, with a second hash;
            // within equal pairs of hashes, every line after the first
            // repeats it.
            let mut checked: Vec<(u64, u64, u32)> = Vec::new();
            let mut position = 0u32;
            each_openid::<Error>(path, |openid| {
                let h = hash_of(openid, 0);
                if shared.binary_search(&h).is_ok() {
                    checked.push((h, hash_of(openid, 1), position));
                }
                position += 1;
                Ok(())
            })?;
            checked.sort_unstable();
            for w in checked.windows(2) {
                if (w[0].0, w[0].1) == (w[1].0, w[1].1) {
                    let p = w[1].2 as usize;
                    repeats[p / 64] |= 1 << (p % 64);
                }
            }
        }
        let repeated: u64 = repeats.iter().map(|w| u64::from(w.count_ones())).sum();
        let distinct = count - repeated;
        keys.dedup();
        if distinct < MIN_BATCH {
            return Err(Error::Invalid(format!(
                "mass/send needs at least 2 different openids; {} has {distinct}",
                path.display()
            )));
        }
        Ok(OpenIdList {
            path: path.to_owned(),
            count,
            digest: hex::encode(digest.finalize()),
            repeats,
            distinct,
            hashes: keys,
        })
    }

    /// Openids in the file, repeats included.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Different openids.
    pub fn distinct(&self) -> u64 {
        self.distinct
    }

    /// Hex SHA-256 of the openids in order.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// A counter of how often earlier campaigns reached each of the
    /// list's followers. A follower is matched by a 64-bit hash: a count
    /// is off only if two openids share one.
    pub fn follower_counts(&self) -> FollowerCounts<'_> {
        FollowerCounts {
            list: self,
            counts: vec![0; self.hashes.len()],
        }
    }

    /// Frees what only [`follower_counts`](Self::follower_counts) needs.
    pub fn forget_hashes(&mut self) {
        self.hashes = Vec::new();
    }

    /// The size of each batch when the distinct openids are cut into
    /// batches of `batch_size`.
    pub fn batch_sizes(&self, batch_size: u32) -> Vec<u64> {
        batch_sizes(self.distinct, batch_size)
    }

    /// The batches, read from the file in order of first appearance with
    /// repeats skipped; `clientmsgid` names each. Each is read when asked
    /// for, so memory holds one batch at a time. The file is read to its
    /// end and must be what [`read`](Self::read) read, else the last item
    /// is an error (and a plan made of them is not recorded).
    pub fn batches<'a>(
        &'a self,
        batch_size: u32,
        clientmsgid: impl Fn(u32) -> String + 'a,
    ) -> Result<impl Iterator<Item = Result<PlannedBatch>> + 'a> {
        let sizes = self.batch_sizes(batch_size);
        let last = sizes.len().saturating_sub(1);
        let mut lines = Lines::open(&self.path)?;
        let mut position = 0u32;
        Ok(sizes.into_iter().enumerate().map(move |(index, size)| {
            let changed = || Error::FileChanged(format!("the openid list {}", self.path.display()));
            let mut openids = Vec::with_capacity(size as usize);
            while (openids.len() as u64) < size {
                let openid = lines.next_openid()?.ok_or_else(changed)?;
                let p = position;
                position += 1;
                if self.repeats[p as usize / 64] & (1 << (p % 64)) == 0 {
                    openids.push(openid);
                }
            }
            if index == last {
                while lines.next_openid()?.is_some() {}
                if hex::encode(lines.digest.clone().finalize()) != self.digest {
                    return Err(changed());
                }
            }
            Ok(PlannedBatch {
                clientmsgid: clientmsgid(index as u32),
                openids,
            })
        }))
    }
}

/// See [`OpenIdList::follower_counts`].
pub struct FollowerCounts<'a> {
    list: &'a OpenIdList,
    counts: Vec<u8>,
}

impl FollowerCounts<'_> {
    /// Counts one earlier campaign's message to `openid` (ignored if the
    /// list does not have it).
    pub fn add(&mut self, openid: &str) {
        let h = hash_of(openid, 0);
        if let Ok(i) = self.list.hashes.binary_search(&h) {
            self.counts[i] = self.counts[i].saturating_add(1);
        }
    }

    /// The list's followers counted `cap` times or more (all of them for a
    /// cap of 0).
    pub fn at_least(&self, cap: u64) -> u64 {
        self.counts.iter().filter(|&&c| u64::from(c) >= cap).count() as u64
    }
}

/// Batch sizes for `distinct` openids in batches of `batch_size`: full
/// batches, then the rest; a last batch of one (mass/send takes at least
/// two) takes one more from the batch before it (or, in batches of two,
/// joins it).
pub fn batch_sizes(distinct: u64, batch_size: u32) -> Vec<u64> {
    let batch_size = u64::from(batch_size.clamp(MIN_BATCH as u32, MAX_BATCH));
    let mut sizes = vec![batch_size; (distinct / batch_size) as usize];
    let rest = distinct % batch_size;
    if rest > 0 {
        sizes.push(rest);
    }
    if rest == 1 && sizes.len() > 1 {
        let last = sizes.len() - 1;
        if sizes[last - 1] > MIN_BATCH {
            sizes[last - 1] -= 1;
            sizes[last] += 1;
        } else {
            // Batches of 2: the single one joins the batch before it.
            sizes.pop();
            sizes[last - 1] += 1;
        }
    }
    sizes
}

/// The openids of a file one at a time (checked by [`each_openid`] when
/// the list was read), with the digest of those read so far.
struct Lines {
    path: PathBuf,
    reader: std::io::BufReader<std::fs::File>,
    line: String,
    digest: Sha256,
}

impl Lines {
    fn open(path: &Path) -> Result<Lines> {
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Lines {
            path: path.to_owned(),
            reader: std::io::BufReader::with_capacity(1 << 16, file),
            line: String::new(),
            digest: Sha256::new(),
        })
    }

    fn next_openid(&mut self) -> Result<Option<String>> {
        loop {
            self.line.clear();
            let read = self
                .reader
                .read_line(&mut self.line)
                .map_err(|source| Error::Read {
                    path: self.path.display().to_string(),
                    source,
                })?;
            if read == 0 {
                return Ok(None);
            }
            let openid = self.line.trim();
            if !openid.is_empty() {
                self.digest.update(openid.as_bytes());
                self.digest.update(b"\n");
                return Ok(Some(openid.to_owned()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn list_of(lines: &[String]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("list.txt");
        std::fs::write(&path, lines.join("\n")).expect("write");
        (dir, path)
    }

    fn planned(list: &OpenIdList, size: u32) -> Vec<Vec<String>> {
        list.batches(size, |i| format!("m{i}"))
            .expect("open")
            .map(|b| b.expect("batch").openids)
            .collect()
    }

    #[test]
    fn batches_skip_repeats_and_never_end_with_a_single_openid() {
        let lines: Vec<String> = (0..11).chain([3, 7]).map(|i| format!("o{i}")).collect();
        let (_dir, path) = list_of(&lines);
        let list = OpenIdList::read(&path).expect("read");
        assert_eq!((list.count(), list.distinct()), (13, 11));
        let batches = planned(&list, 5);
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [5, 4, 2]);
        // First appearance order, repeats dropped.
        let all: Vec<String> = batches.concat();
        let expected: Vec<String> = (0..11).map(|i| format!("o{i}")).collect();
        assert_eq!(all, expected);
    }

    #[test]
    fn lists_too_short_or_not_openids_are_refused_with_the_line() {
        let (_d, path) = list_of(&["o1".into(), "o1".into()]);
        let e = OpenIdList::read(&path).expect_err("one different");
        assert!(e.to_string().contains("2 different openids"), "{e}");
        let (_d, path) = list_of(&["o1".into(), "two words".into()]);
        let e = OpenIdList::read(&path).expect_err("bad line");
        assert!(e.to_string().contains("line 2 is not an openid"), "{e}");
    }

    #[test]
    fn a_list_changed_after_reading_is_not_planned() {
        let lines: Vec<String> = (0..6).map(|i| format!("o{i}")).collect();
        let (_d, path) = list_of(&lines);
        let list = OpenIdList::read(&path).expect("read");
        std::fs::write(&path, "o0\no1\no2\no3\no4\noX").expect("rewrite");
        let results: Vec<Result<PlannedBatch>> = list
            .batches(3, |i| format!("m{i}"))
            .expect("open")
            .collect();
        assert!(
            matches!(results.last(), Some(Err(Error::FileChanged(_)))),
            "{results:?}"
        );
    }

    #[test]
    fn followers_at_cap_counts_each_earlier_campaign() {
        let lines: Vec<String> = (0..4).map(|i| format!("o{i}")).collect();
        let (_d, path) = list_of(&lines);
        let list = OpenIdList::read(&path).expect("read");
        let mut counts = list.follower_counts();
        // Two earlier campaigns had o0; one had o1; o9 is not ours.
        ["o0", "o1", "o9", "o0"].iter().for_each(|o| counts.add(o));
        assert_eq!(counts.at_least(2), 1);
        assert_eq!(counts.at_least(0), 4);
    }

    proptest! {
        /// The same batches as the obvious in-memory dedup, for any list.
        #[test]
        fn dedup_matches_a_set(ids in proptest::collection::vec(0u16..300, 2..400), size in 2u32..50) {
            let lines: Vec<String> = ids.iter().map(|i| format!("o{i}")).collect();
            let mut seen = std::collections::HashSet::new();
            let distinct: Vec<String> = lines.iter().filter(|l| seen.insert(*l)).cloned().collect();
            prop_assume!(distinct.len() >= 2);
            let (_d, path) = list_of(&lines);
            let list = OpenIdList::read(&path).expect("read");
            let batches = planned(&list, size);
            prop_assert_eq!(batches.concat(), distinct.clone());
            prop_assert!(batches.iter().all(|b| b.len() >= 2 && b.len() <= size as usize + 1));
            prop_assert_eq!(list.distinct() as usize, distinct.len());
        }
    }
}

/// A private file (0600, removed when dropped) for an openid list that is
/// read more than once but did not come as a file: standard input, a
/// request's body, a list saved in the store.
#[derive(Debug)]
pub struct Spool(tempfile::NamedTempFile);

impl Spool {
    /// A new, empty spool in `dir` (the system's temporary folder if none).
    pub fn new_in(dir: Option<&Path>) -> Result<Spool> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("wxmass-").suffix(".openids");
        let made = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| Error::Read {
                    path: dir.display().to_string(),
                    source,
                })?;
                builder.tempfile_in(dir)
            }
            None => builder.tempfile(),
        };
        made.map(Spool).map_err(|source| Error::Read {
            path: dir.map_or_else(
                || std::env::temp_dir().display().to_string(),
                |d| d.display().to_string(),
            ),
            source,
        })
    }

    /// A spool holding `data`.
    pub fn of(data: &[u8]) -> Result<Spool> {
        let mut spool = Spool::new_in(None)?;
        spool.write(data)?;
        Ok(spool)
    }

    /// Appends `data`.
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        use std::io::Write as _;
        let path = self.path().display().to_string();
        self.0
            .as_file_mut()
            .write_all(data)
            .map_err(|source| Error::Read { path, source })
    }

    /// The file, to write to (`std::io::copy`).
    pub fn file(&mut self) -> &mut std::fs::File {
        self.0.as_file_mut()
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// Every follower of the account (or those with `tag`), page by page as
/// WeChat lists them, written to a spool in `dir`: a fan-out campaign to
/// all or to a tag is planned from the list this makes (then read as an
/// [`OpenIdList`], repeats skipped), so that its recipients stay those of
/// the moment it was planned. Memory holds one page.
pub async fn spool_followers(
    client: &wxmass_api::Client,
    tag: Option<u32>,
    dir: Option<&Path>,
) -> Result<Spool> {
    use futures_util::TryStreamExt;
    let mut spool = Spool::new_in(dir)?;
    let users = client.users();
    let tags = client.tags();
    let mut pages: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = wxmass_api::Result<Vec<String>>> + Send + '_>,
    > = match tag {
        Some(tag) => Box::pin(tags.members(tag)),
        None => Box::pin(users.followers()),
    };
    let mut text = String::new();
    while let Some(page) = pages.try_next().await? {
        text.clear();
        for openid in &page {
            text.push_str(openid);
            text.push('\n');
        }
        spool.write(text.as_bytes())?;
    }
    Ok(spool)
}
