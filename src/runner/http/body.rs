//! Reading a response body with bounded memory. A body is always read to its end (so the
//! connection can be reused and the latency covers the whole response), but only what the
//! step needs is kept: nothing, the excerpt an error message quotes, or up to `max_body`
//! bytes for checks and captures, drawn from a budget shared by every request in flight.
//! An endless or huge body therefore costs a bounded prefix, never the whole stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes of a body quoted in error messages.
pub const EXCERPT: usize = 200;

/// The least memory the bodies kept by requests in flight may use together.
pub const MIN_BUDGET: u64 = 64 * 1024 * 1024;

/// Memory is handed out in KiB.
const UNIT: u64 = 1024;

/// Memory for response bodies, shared by every request of a run.
#[derive(Debug)]
pub struct BodyBudget {
    permits: Arc<Semaphore>,
    /// Total size, bytes.
    pub bytes: u64,
    /// Bodies that could not be kept because the budget was in use.
    pub exhausted: AtomicU64,
}

impl BodyBudget {
    /// A budget of `bytes` (at least [`MIN_BUDGET`]).
    pub fn new(bytes: u64) -> Self {
        let bytes = bytes.max(MIN_BUDGET);
        let units = usize::try_from(bytes / UNIT)
            .unwrap_or(Semaphore::MAX_PERMITS)
            .min(Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(units)),
            bytes,
            exhausted: AtomicU64::new(0),
        }
    }
}

/// What to keep of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Only its first [`EXCERPT`] bytes, for an error message.
    Excerpt,
    /// All of it, up to this many bytes, for checks and captures.
    UpTo(u64),
}

/// Why a body needed by checks or captures was not kept whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncated {
    /// It is larger than the step's `max_body`.
    MaxBody(u64),
    /// The memory shared by all requests in flight was in use.
    Budget(u64),
}

impl Truncated {
    /// Why, for error messages.
    pub fn describe(self) -> String {
        match self {
            Truncated::MaxBody(limit) => format!(
                "the response body is larger than max_body ({}), so it was not kept: raise `max_body` in [target] or in the step",
                size(limit)
            ),
            Truncated::Budget(budget) => format!(
                "the response body could not be kept: rehearse's memory for response bodies ({} for all requests in flight) was in use; lower `max_in_flight` or `max_body`",
                size(budget)
            ),
        }
    }
}

/// A body as read.
#[derive(Debug, Default)]
pub struct ReadBody {
    /// The kept bytes: the whole body, or at most [`EXCERPT`] bytes when not kept whole.
    pub bytes: Bytes,
    /// Set when the step wanted the whole body and did not get it.
    pub truncated: Option<Truncated>,
    /// Memory this body holds from the budget; released when the body is dropped.
    _held: Option<OwnedSemaphorePermit>,
}

impl ReadBody {
    /// A body kept whole (what a test or another transport hands to `judge`).
    pub fn whole(bytes: Bytes) -> Self {
        Self {
            bytes,
            truncated: None,
            _held: None,
        }
    }

    /// The body's start, for error messages.
    pub fn excerpt(&self) -> &[u8] {
        &self.bytes[..self.bytes.len().min(EXCERPT)]
    }
}

/// Reads `body` to its end, keeping what `keep` asks for. A transport error while reading
/// is returned as its message.
pub async fn read(mut body: Incoming, keep: Keep, budget: &BodyBudget) -> Result<ReadBody, String> {
    let mut kept = BytesMut::new();
    let mut held: Option<OwnedSemaphorePermit> = None;
    let mut truncated = None;
    let mut excerpt_only = matches!(keep, Keep::Excerpt);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("reading the response body: {e}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if excerpt_only {
            let room = EXCERPT.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
            continue;
        }
        let Keep::UpTo(limit) = keep else {
            unreachable!("only UpTo keeps whole bodies")
        };
        let total = kept.len() as u64 + data.len() as u64;
        let reason = if total > limit {
            Some(Truncated::MaxBody(limit))
        } else {
            let units = total.div_ceil(UNIT) - held.as_ref().map_or(0, |p| p.num_permits() as u64);
            match take(budget, units) {
                Ok(Some(p)) => {
                    match held.as_mut() {
                        Some(h) => h.merge(p),
                        None => held = Some(p),
                    }
                    None
                }
                Ok(None) => None,
                Err(()) => {
                    budget.exhausted.fetch_add(1, Ordering::Relaxed);
                    Some(Truncated::Budget(budget.bytes))
                }
            }
        };
        match reason {
            None => kept.extend_from_slice(&data),
            Some(why) => {
                // The checks cannot pass on part of a body: free its memory now and drain.
                truncated = Some(why);
                kept = BytesMut::from(&kept[..kept.len().min(EXCERPT)]);
                held = None;
                excerpt_only = true;
            }
        }
    }
    Ok(ReadBody {
        bytes: kept.freeze(),
        truncated,
        _held: held,
    })
}

/// Takes `units` KiB from the budget without waiting (waiting while holding memory could
/// deadlock requests against each other); `Ok(None)` when nothing more is needed.
fn take(budget: &BodyBudget, units: u64) -> Result<Option<OwnedSemaphorePermit>, ()> {
    if units == 0 {
        return Ok(None);
    }
    let units = u32::try_from(units).map_err(|_| ())?;
    budget
        .permits
        .clone()
        .try_acquire_many_owned(units)
        .map(Some)
        .map_err(|_| ())
}

/// A size in bytes for people: `1 MiB`, `512 KiB`, `300 B`.
pub fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_and_released_with_the_body() {
        let budget = BodyBudget::new(0);
        assert_eq!(budget.bytes, MIN_BUDGET);
        let all = MIN_BUDGET / UNIT;
        let p = take(&budget, all).unwrap().unwrap();
        assert!(take(&budget, 1).is_err(), "nothing left");
        drop(p);
        assert!(take(&budget, 1).unwrap().is_some());
        assert_eq!(size(1024 * 1024), "1 MiB");
        assert_eq!(size(1536), "1536 B");
    }
}
