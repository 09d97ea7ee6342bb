//! What happened to one step attempt, and the per-kind counts the results file carries.

use serde::{Deserialize, Serialize};

/// The outcome of one step attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// A response that passed every check and capture.
    Ok,
    /// An unexpected 3xx status (redirects are not followed).
    Http3xx,
    /// An unexpected 4xx status.
    Http4xx,
    /// An unexpected 5xx status.
    Http5xx,
    /// No connection: refused, unreachable, DNS or TLS failure.
    ConnectError,
    /// No complete response within the step's timeout.
    Timeout,
    /// The connection was reset or closed mid-exchange.
    Reset,
    /// A response whose status, JSON or body check failed.
    CheckFailed,
    /// A response a capture could not read its value from.
    CaptureFailed,
    /// The request could not be built (e.g. a rendered header value is invalid).
    RequestError,
    /// A polling step's condition (`until`) did not hold within its timeout.
    PollTimeout,
    /// The database refused a statement (its SQLSTATE in the message).
    QueryError,
    /// Every connection of a database's pool stayed in use for the step's timeout.
    PoolExhausted,
    /// Still in flight when the run ended and its grace period ran out.
    Interrupted,
}

impl Outcome {
    /// Every outcome, in the order counts are kept.
    pub const ALL: [Outcome; 14] = [
        Outcome::Ok,
        Outcome::Http3xx,
        Outcome::Http4xx,
        Outcome::Http5xx,
        Outcome::ConnectError,
        Outcome::Timeout,
        Outcome::Reset,
        Outcome::CheckFailed,
        Outcome::CaptureFailed,
        Outcome::RequestError,
        Outcome::PollTimeout,
        Outcome::QueryError,
        Outcome::PoolExhausted,
        Outcome::Interrupted,
    ];

    /// Position in [`Outcome::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in results.json and the console.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Http3xx => "http_3xx",
            Outcome::Http4xx => "http_4xx",
            Outcome::Http5xx => "http_5xx",
            Outcome::ConnectError => "connect_error",
            Outcome::Timeout => "timeout",
            Outcome::Reset => "reset",
            Outcome::CheckFailed => "check_failed",
            Outcome::CaptureFailed => "capture_failed",
            Outcome::RequestError => "request_error",
            Outcome::PollTimeout => "poll_timeout",
            Outcome::QueryError => "query_error",
            Outcome::PoolExhausted => "pool_exhausted",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// Whether it counts against the target. Interrupted attempts are the harness
    /// stopping, not the target failing, so they are not errors.
    pub fn is_error(self) -> bool {
        !matches!(self, Outcome::Ok | Outcome::Interrupted)
    }

    /// Whether a response arrived, so the attempt has a latency.
    pub fn has_response(self) -> bool {
        matches!(
            self,
            Outcome::Ok
                | Outcome::Http3xx
                | Outcome::Http4xx
                | Outcome::Http5xx
                | Outcome::CheckFailed
                | Outcome::CaptureFailed
                | Outcome::QueryError
        )
    }
}

/// Attempts counted by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutcomeCounts {
    /// Passed every check.
    pub ok: u64,
    /// Unexpected 3xx.
    pub http_3xx: u64,
    /// Unexpected 4xx.
    pub http_4xx: u64,
    /// Unexpected 5xx.
    pub http_5xx: u64,
    /// Could not connect.
    pub connect_error: u64,
    /// Timed out.
    pub timeout: u64,
    /// Connection reset or closed early.
    pub reset: u64,
    /// A check failed.
    pub check_failed: u64,
    /// A capture failed.
    pub capture_failed: u64,
    /// The request could not be built.
    pub request_error: u64,
    /// A polling step's condition did not hold in time.
    pub poll_timeout: u64,
    /// The database refused a statement.
    pub query_error: u64,
    /// A database's connections all stayed in use.
    pub pool_exhausted: u64,
    /// Cut off at the end of the run.
    pub interrupted: u64,
}

impl OutcomeCounts {
    /// Builds counts from an array indexed like [`Outcome::ALL`].
    pub fn from_array(a: &[u64; Outcome::ALL.len()]) -> Self {
        Self {
            ok: a[0],
            http_3xx: a[1],
            http_4xx: a[2],
            http_5xx: a[3],
            connect_error: a[4],
            timeout: a[5],
            reset: a[6],
            check_failed: a[7],
            capture_failed: a[8],
            request_error: a[9],
            poll_timeout: a[10],
            query_error: a[11],
            pool_exhausted: a[12],
            interrupted: a[13],
        }
    }

    /// The count for one outcome.
    pub fn get(&self, o: Outcome) -> u64 {
        match o {
            Outcome::Ok => self.ok,
            Outcome::Http3xx => self.http_3xx,
            Outcome::Http4xx => self.http_4xx,
            Outcome::Http5xx => self.http_5xx,
            Outcome::ConnectError => self.connect_error,
            Outcome::Timeout => self.timeout,
            Outcome::Reset => self.reset,
            Outcome::CheckFailed => self.check_failed,
            Outcome::CaptureFailed => self.capture_failed,
            Outcome::RequestError => self.request_error,
            Outcome::PollTimeout => self.poll_timeout,
            Outcome::QueryError => self.query_error,
            Outcome::PoolExhausted => self.pool_exhausted,
            Outcome::Interrupted => self.interrupted,
        }
    }

    /// All attempts.
    pub fn total(&self) -> u64 {
        Outcome::ALL.iter().map(|o| self.get(*o)).sum()
    }

    /// Attempts that count against the target.
    pub fn errors(&self) -> u64 {
        Outcome::ALL
            .iter()
            .filter(|o| o.is_error())
            .map(|o| self.get(*o))
            .sum()
    }

    /// Attempts that got a response.
    pub fn responses(&self) -> u64 {
        Outcome::ALL
            .iter()
            .filter(|o| o.has_response())
            .map(|o| self.get(*o))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip_through_the_array_order() {
        let mut a = [0u64; 14];
        for (i, v) in a.iter_mut().enumerate() {
            *v = i as u64 + 1;
        }
        let c = OutcomeCounts::from_array(&a);
        for o in Outcome::ALL {
            assert_eq!(c.get(o), a[o.index()], "{}", o.name());
        }
        assert_eq!(c.total(), 105);
        assert_eq!(c.errors(), 105 - 1 - 14);
        let json = serde_json::to_value(&c).unwrap();
        for o in Outcome::ALL {
            assert_eq!(json[o.name()], c.get(o), "{}", o.name());
        }
    }
}
