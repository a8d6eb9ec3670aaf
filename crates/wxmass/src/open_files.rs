//! Room for connections: `serve` holds one file descriptor per open
//! connection, and the usual soft limit (1,024) is far below a safe cap.
//! The soft limit is raised towards the hard one at start, and the cap is
//! lowered, with a warning, to what the limit allows.

/// Descriptors kept for the journal, the listener, logs and the runtime.
const RESERVED: u64 = 64;

/// Raises the open-file limit as far as allowed and returns the connection
/// cap that fits in it (at most `wanted`).
pub fn room_for(wanted: u32) -> usize {
    let needed = u64::from(wanted) + RESERVED;
    let available = raise_limit(needed);
    let fits = available.saturating_sub(RESERVED).max(1);
    if fits < u64::from(wanted) {
        eprintln!(
            "warning: the open-file limit ({available}) leaves room for {fits} connections, not {wanted}; raise it (ulimit -n) or lower --max-connections"
        );
    }
    usize::try_from(fits.min(u64::from(wanted))).unwrap_or(usize::MAX)
}

#[cfg(unix)]
fn raise_limit(needed: u64) -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= needed {
        return current;
    }
    let target = limit.maximum.map_or(needed, |max| max.min(needed));
    let mut raised = limit;
    raised.current = Some(target);
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => target,
        Err(_) => current,
    }
}

#[cfg(not(unix))]
fn raise_limit(needed: u64) -> u64 {
    needed
}
