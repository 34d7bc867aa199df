//! Broadcast storms (notes 7: "在网络中如果存在大量的广播会产生广播风暴，占用大量带宽").
//!
//! A unicast datagram costs one host some work; a broadcast costs *every*
//! host on the network the same work — each one's network card passes the
//! frame up, each kernel looks for a socket on the port, and most throw it
//! away. A sender that broadcasts in a tight loop therefore loads the whole
//! LAN, not one peer. (A true storm is worse still: a switching loop copies
//! broadcast frames forever, because switches flood them out of every port.)
//!
//! So `broadcast-send` refuses to send faster than once every
//! [`MIN_INTERVAL_MS`] unless the user says `--force`.

use common::UsageError;

/// The shortest interval between two broadcasts sent without `--force`.
pub const MIN_INTERVAL_MS: u64 = 10;

/// Refuse a sending rate that could flood a network, unless forced.
///
/// The interval only matters when more than one datagram is sent: `count`
/// is the number of datagrams, 0 meaning "until interrupted".
pub fn check_interval(interval_ms: u64, count: u64, force: bool) -> Result<(), UsageError> {
    if force || count == 1 || interval_ms >= MIN_INTERVAL_MS {
        return Ok(());
    }
    Err(UsageError(format!(
        "--interval {interval_ms} ms is below {MIN_INTERVAL_MS} ms: every host on the network \
         must receive and handle every broadcast, so sending this fast loads the whole LAN \
         (a broadcast storm, notes 7). Use --interval {MIN_INTERVAL_MS} or more, or add --force \
         if you really mean it"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_repeated_broadcast_is_refused_and_says_why() {
        let err = check_interval(1, 5, false).unwrap_err().0;
        assert!(err.contains("--interval 1 ms is below 10 ms"), "{err}");
        assert!(err.contains("broadcast storm"), "{err}");
        assert!(err.contains("--force"), "{err}");
        // Forever (count 0) at full speed is the worst case.
        assert!(check_interval(0, 0, false).is_err());
    }

    #[test]
    fn force_or_a_sane_interval_is_accepted() {
        assert!(check_interval(1, 5, true).is_ok());
        assert!(check_interval(0, 0, true).is_ok());
        assert!(check_interval(10, 1000, false).is_ok());
    }

    #[test]
    fn a_single_datagram_has_no_interval_to_check() {
        assert!(check_interval(0, 1, false).is_ok());
    }
}
