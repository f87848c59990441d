//! Known core findings that a run may choose to tolerate, so a campaign can keep exploring past a bug
//! that is reported but not fixed yet. Set `WSLANE_FUZZ_TOLERATE` to a comma-separated list of ids;
//! by default nothing is tolerated and every check is enforced.
//!
//! | id | check |
//! |---|---|
//! | `streaming-needed` | decoder: in `Streaming` mode, no item arrives before `NeedMore::needed` more bytes |
//! | `held-pong-growth` | connection: the output stays bounded while a peer pings without reading |

use std::sync::OnceLock;

/// Whether the finding `id` is tolerated in this run.
pub fn tolerated(id: &str) -> bool {
    static LIST: OnceLock<Vec<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        std::env::var("WSLANE_FUZZ_TOLERATE")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .iter()
    .any(|s| s == id)
}
