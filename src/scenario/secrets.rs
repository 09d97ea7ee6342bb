//! Values a scenario took from the environment (and credentials in a base URL): secret by
//! default, so everything rehearse writes about a run (console, results.json, the store,
//! reports) shows `***` where one of them would appear, raw or encoded.

use std::borrow::Cow;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Secrets shorter than this are not masked: three characters or fewer would match
/// ordinary text everywhere and hide nothing a guess would not find.
pub const MIN_SECRET_LEN: usize = 4;

/// The secret values of one scenario, in every form they may appear in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// Forms to mask, longest first so a secret containing another is masked whole.
    forms: Vec<String>,
}

impl Secrets {
    /// Adds a secret value (ignored when too short to mask safely).
    pub fn add(&mut self, value: &str) {
        if value.chars().count() < MIN_SECRET_LEN {
            return;
        }
        let mut url = String::new();
        super::template::percent_encode_into(value, &mut url);
        let mut json = String::new();
        super::template::json_escape_into(value, &mut json);
        for form in [value.to_string(), url, json] {
            if !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
        self.forms
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// `text` with every secret replaced by [`MASK`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.forms.iter().any(|f| text.contains(f.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), MASK);
            }
        }
        Cow::Owned(out)
    }

    /// Redacts a string in place.
    pub fn redact_in_place(&self, text: &mut String) {
        if let Cow::Owned(clean) = self.redact(text) {
            *text = clean;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_raw_url_encoded_and_json_escaped() {
        let mut s = Secrets::default();
        s.add("to/ken \"x\"");
        s.add("abc");
        assert_eq!(s.redact("Bearer to/ken \"x\"!"), "Bearer ***!");
        assert_eq!(s.redact("/api/to%2Fken%20%22x%22/pay"), "/api/***/pay");
        assert_eq!(s.redact(r#"{"t":"to/ken \"x\""}"#), r#"{"t":"***"}"#);
        assert_eq!(
            s.redact("abc is too short to mask"),
            "abc is too short to mask"
        );
        assert!(matches!(s.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_secret_inside_a_longer_one_does_not_leave_a_tail() {
        let mut s = Secrets::default();
        s.add("pass");
        s.add("password-123");
        assert_eq!(s.redact("password-123 and pass"), "*** and ***");
    }
}
