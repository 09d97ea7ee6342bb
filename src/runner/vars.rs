//! An iteration's variables: its data row, what earlier steps captured, and the builtins.

use std::fmt::Write;

use crate::scenario::template::{Builtin, Template, VarRef};

/// The values templates read during one iteration.
pub struct IterationVars<'a> {
    /// The feeder's rows, shared by every iteration.
    pub rows: Option<&'a [Vec<String>]>,
    /// This iteration's row.
    pub row: usize,
    /// Captured values by slot.
    pub captures: Vec<Option<String>>,
    /// The iteration's sequence number.
    pub iteration: u64,
    /// Randomness for think times, seeded per iteration.
    pub rng: fastrand::Rng,
    /// The simulated customer's cookies, for the iteration (carried by the session).
    pub cookies: crate::runner::http::cookies::Jar,
    /// Cookie names `{{ cookie.NAME }}` reads, by slot.
    pub cookie_names: &'a [String],
    /// Names of the cookies the current step's responses set, for `cookie` captures.
    pub step_cookies: Vec<String>,
    /// Randomness for `uuid`: fresh in every run, because uuids name things the target
    /// keeps (a second run with the same seed must not sign up the same customers).
    ids: fastrand::Rng,
    scratch: String,
}

impl<'a> IterationVars<'a> {
    /// Variables for one iteration.
    pub fn new(
        rows: Option<&'a [Vec<String>]>,
        row: usize,
        captures: usize,
        iteration: u64,
        seed: u64,
        nonce: u64,
    ) -> Self {
        let spread = iteration.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self {
            rows,
            row,
            captures: vec![None; captures],
            iteration,
            rng: fastrand::Rng::with_seed(seed ^ spread),
            cookies: Default::default(),
            cookie_names: &[],
            step_cookies: Vec::new(),
            ids: fastrand::Rng::with_seed(nonce ^ spread),
            scratch: String::new(),
        }
    }

    /// Renders a template into a new string.
    pub fn render(&mut self, t: &Template) -> String {
        let mut out = String::new();
        self.render_into(t, &mut out);
        out
    }

    /// Appends a rendered template to `out`.
    pub fn render_into(&mut self, t: &Template, out: &mut String) {
        let Self {
            rows,
            row,
            captures,
            iteration,
            ids,
            scratch,
            cookies,
            cookie_names,
            ..
        } = self;
        t.render_into(out, scratch, |var, buf| match var {
            VarRef::Column(c) => {
                if let Some(rows) = rows {
                    buf.push_str(&rows[*row][c]);
                }
            }
            VarRef::Capture(slot) => buf.push_str(captures[slot].as_deref().unwrap_or("")),
            VarRef::Builtin(Builtin::Iteration) => {
                let _ = write!(buf, "{iteration}");
            }
            VarRef::Builtin(Builtin::Uuid) => push_uuid(ids, buf),
            VarRef::Cookie(slot) => {
                if let Some(v) = cookie_names
                    .get(slot)
                    .and_then(|n| cookies.get(n, std::time::SystemTime::now()))
                {
                    buf.push_str(v);
                }
            }
            VarRef::Builtin(Builtin::NowMs) => {
                let ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0);
                let _ = write!(buf, "{ms}");
            }
        });
    }
}

/// Writes a random version-4 UUID.
fn push_uuid(rng: &mut fastrand::Rng, out: &mut String) {
    let hi = rng.u64(..);
    let lo = rng.u64(..);
    let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    let _ = write!(
        out,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::template::{Escape, Segment};

    #[test]
    fn renders_rows_captures_and_builtins() {
        let rows = vec![vec!["a@x".to_string()], vec!["b@x".to_string()]];
        let mut v = IterationVars::new(Some(rows.as_slice()), 1, 1, 7, 42, 9);
        v.captures[0] = Some("tok".into());
        let t = Template {
            segments: vec![
                Segment::Var(VarRef::Column(0), Escape::Url),
                Segment::Literal("/".into()),
                Segment::Var(VarRef::Capture(0), Escape::None),
                Segment::Literal("/".into()),
                Segment::Var(VarRef::Builtin(Builtin::Iteration), Escape::None),
                Segment::Literal("/".into()),
                Segment::Var(VarRef::Builtin(Builtin::Uuid), Escape::None),
            ],
        };
        let out = v.render(&t);
        let parts: Vec<&str> = out.split('/').collect();
        assert_eq!(&parts[..3], &["b%40x", "tok", "7"]);
        let uuid = parts[3];
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"), "{uuid}");
        assert_ne!(v.render(&t), out, "each uuid is fresh");
    }

    #[test]
    fn a_cookie_reference_reads_the_customers_jar() {
        let names = vec!["sid".to_string(), "missing".to_string()];
        let mut v = IterationVars::new(None, 0, 0, 0, 1, 1);
        v.cookie_names = &names;
        v.cookies
            .store("sid=abc", "h", "/", std::time::SystemTime::now());
        let t = Template {
            segments: vec![
                Segment::Var(VarRef::Cookie(0), Escape::None),
                Segment::Literal("|".into()),
                Segment::Var(VarRef::Cookie(1), Escape::None),
            ],
        };
        assert_eq!(v.render(&t), "abc|");
    }
}
