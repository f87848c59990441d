//! The open-file limit: every connection is one descriptor in the load tool and one in the server, which
//! inherits the limit from the load tool.

/// Raises the soft limit on open files towards `want` (at most to the hard limit); returns the limit now
/// in force.
///
/// # Errors
///
/// When the limit cannot be read or set.
#[allow(unsafe_code)]
pub fn raise_open_files(want: u64) -> std::io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur >= want {
        return Ok(limit.rlim_cur);
    }
    limit.rlim_cur = want.min(limit.rlim_max);
    // SAFETY: `limit` is a valid `rlimit`, read for the duration of the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_at_least_what_it_was() {
        let before = raise_open_files(0).unwrap();
        assert!(raise_open_files(before + 1).unwrap() >= before);
    }
}
