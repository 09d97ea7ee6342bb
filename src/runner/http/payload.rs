//! A request body of shared chunks. A multipart upload's file is read once when the scenario
//! loads and goes out as the same `Bytes` in every request: never read from disk again (the
//! disk's time would land in the target's latency) and never copied (a 50 MiB upload at a
//! hundred in flight would otherwise hold a hundred copies).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// A request body: chunks sent in order, cheap to clone (a redirect sends it again).
#[derive(Debug, Clone, Default)]
pub struct Payload {
    chunks: VecDeque<Bytes>,
    remaining: u64,
}

impl Payload {
    /// A body of these chunks, in order; empty ones are dropped.
    pub fn chunks(chunks: impl IntoIterator<Item = Bytes>) -> Self {
        let chunks: VecDeque<Bytes> = chunks.into_iter().filter(|c| !c.is_empty()).collect();
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        Self { chunks, remaining }
    }

    /// Bytes still to send.
    pub fn len(&self) -> u64 {
        self.remaining
    }

    /// Whether nothing is left to send.
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }
}

impl From<Bytes> for Payload {
    fn from(b: Bytes) -> Self {
        Self::chunks([b])
    }
}

impl Body for Payload {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.chunks.pop_front() {
            Some(chunk) => {
                self.remaining -= chunk.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        // Exact, so the request carries a Content-Length, not chunked encoding.
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    #[test]
    fn chunks_go_out_in_order_with_an_exact_length_and_share_their_bytes() {
        let file = Bytes::from(vec![7u8; 1 << 20]);
        let body = Payload::chunks([Bytes::from_static(b"head"), file.clone(), Bytes::new()]);
        assert_eq!(body.size_hint().exact(), Some(4 + (1 << 20)));
        let again = body.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut frames = Vec::new();
        let mut b = body;
        while let Some(frame) = rt.block_on(b.frame()) {
            frames.push(frame.unwrap().into_data().unwrap());
        }
        assert_eq!(frames.len(), 2, "the empty chunk is not sent");
        assert_eq!(&frames[0][..], b"head");
        // The file's chunk is the file's own memory, not a copy.
        assert_eq!(frames[1].as_ptr(), file.as_ptr());
        assert!(b.is_end_stream() && b.is_empty());
        assert_eq!(again.len(), 4 + (1 << 20), "a clone sends everything again");
    }
}
