//! The HdrHistogram settings every stage shares, the base64 V2-compressed encoding results
//! files carry (readable by the Java, Python and Go libraries), and percentile summaries.

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// Lowest latency tracked: 1 µs.
pub const LOWEST_US: u64 = 1;
/// Highest latency tracked: 1 hour, in µs.
pub const HIGHEST_US: u64 = 3_600_000_000;
/// Significant decimal digits kept.
pub const SIGFIG: u8 = 3;

/// An empty latency histogram with the shared bounds (1 µs to 1 h, 3 digits).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGFIG).expect("constant bounds are valid")
}

/// Encodes a histogram as base64 of the standard V2 compressed form (`HISTFAA…`).
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("serializing into memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes base64 of a V2 (compressed or not) histogram. The header is checked before the
/// decoder allocates anything it declares: a few bytes claiming gigabytes are refused.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    decode_bytes(&bytes)
}

/// Decodes a V2 (compressed or not) histogram's bytes, checking its header first.
pub fn decode_bytes(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    check_header(bytes)?;
    Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("not an HdrHistogram V2 encoding: {e:?}"))
}

/// Most counts (buckets) a decoded histogram may have: 32 MB of counters. rehearse's own
/// histograms (1 µs to 1 h, 3 digits) have about 23,500; one in nanoseconds to a day with
/// 5 digits has about 4 million.
pub const MAX_COUNTS: u64 = 1 << 22;

const V2_COOKIE: u32 = 0x1c84_9313;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
/// The largest expansion zlib can achieve, to bound what compressed bytes can declare.
const ZLIB_MAX_RATIO: u64 = 1032;
/// The V2 header after its cookie: payload length, offset, digits, low, high, ratio.
const V2_HEADER: usize = 36;

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("four bytes"))
}

fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("eight bytes"))
}

fn check_header(bytes: &[u8]) -> Result<(), String> {
    let short = || "not an HdrHistogram V2 encoding: too short".to_string();
    if bytes.len() < 8 {
        return Err(short());
    }
    match be32(bytes, 0) {
        V2_COOKIE => {
            if bytes.len() < 4 + V2_HEADER {
                return Err(short());
            }
            check_v2(
                &bytes[4..4 + V2_HEADER],
                (bytes.len() - 4 - V2_HEADER) as u64,
            )
        }
        V2_COMPRESSED_COOKIE => {
            let declared = be32(bytes, 4) as u64;
            let present = (bytes.len() - 8) as u64;
            if declared > present {
                return Err(format!(
                    "a histogram declares {declared} compressed bytes but holds {present}"
                ));
            }
            use std::io::Read;
            let mut inner = [0u8; 4 + V2_HEADER];
            flate2::read::ZlibDecoder::new(&bytes[8..8 + declared as usize])
                .read_exact(&mut inner)
                .map_err(|e| format!("not an HdrHistogram V2 encoding: {e}"))?;
            if be32(&inner, 0) != V2_COOKIE {
                return Err("not an HdrHistogram V2 encoding: bad inner cookie".into());
            }
            check_v2(&inner[4..], declared.saturating_mul(ZLIB_MAX_RATIO))
        }
        _ => Err("not an HdrHistogram V2 encoding: unknown cookie".into()),
    }
}

/// Checks a V2 header against the bytes that can follow it.
fn check_v2(header: &[u8], available: u64) -> Result<(), String> {
    let payload = be32(header, 0) as u64;
    let digits = be32(header, 8);
    let low = be64(header, 12);
    let high = be64(header, 20);
    if !(1..=5).contains(&digits) || low < 1 || high < low.saturating_mul(2) {
        return Err(format!(
            "a histogram's bounds are invalid ({low} to {high}, {digits} digits)"
        ));
    }
    // The counts array the bounds imply, as HdrHistogram sizes it.
    let sub_buckets = 2f64.powf((2.0 * 10f64.powi(digits as i32)).log2().ceil());
    let span = (high as f64 / (low as f64 * sub_buckets))
        .log2()
        .max(0.0)
        .ceil()
        + 2.0;
    let counts = span * sub_buckets / 2.0;
    if counts > MAX_COUNTS as f64 {
        return Err(format!(
            "a histogram's bounds ({low} to {high}, {digits} digits) need {counts:.0} counters, more than the {MAX_COUNTS} rehearse reads"
        ));
    }
    // Each counter takes at most 9 bytes (a LEB128 varint of a zig-zag i64).
    if payload > available || payload > counts as u64 * 9 + 9 {
        return Err(format!(
            "a histogram declares a {payload}-byte payload, more than it holds or its bounds allow"
        ));
    }
    Ok(())
}

/// Summary statistics of a latency histogram, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LatencySummary {
    /// Number of recorded values.
    pub count: u64,
    /// Smallest value.
    pub min: u64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Standard deviation.
    pub stdev: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 95th percentile.
    pub p95: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest value.
    pub max: u64,
}

impl LatencySummary {
    /// Summarizes a histogram (all zeros when it is empty).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        // Values are reported as the highest equivalent of their bucket, as HdrHistogram does.
        Self {
            count: h.len(),
            min: h.min(),
            mean: round2(h.mean()),
            stdev: round2(h.stdev()),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_uses_the_standard_compressed_cookie() {
        let mut h = new_histogram();
        for v in [1u64, 150, 1_000, 20_000, 20_001, 5_000_000, HIGHEST_US] {
            h.record(v).unwrap();
        }
        let text = encode(&h);
        // 0x1c849304 is the V2 compressed cookie; base64 of it starts with "HISTF".
        assert!(text.starts_with("HISTF"), "{text}");
        let back = decode(&text).unwrap();
        assert_eq!(back, h);
        assert!(decode("not base64!").is_err());
        assert!(decode("AAAA").is_err());
    }

    #[test]
    fn summary_reads_percentiles() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 10).unwrap();
        }
        let s = LatencySummary::of(&h);
        assert_eq!(s.count, 1000);
        assert_eq!(s.min, 10);
        assert!((s.p50 as i64 - 5000).abs() <= 5, "{}", s.p50);
        assert!((s.p99 as i64 - 9900).abs() <= 10, "{}", s.p99);
        assert_eq!(
            LatencySummary::of(&new_histogram()),
            LatencySummary::default()
        );
    }
}
