//! The parts of a HAR 1.2 file (a browser's recorded session) an import reads; everything
//! else in the file is ignored, and what is missing is taken as empty.

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
pub struct Har {
    /// The log.
    pub log: Log,
}

/// `log`.
#[derive(Debug, Deserialize)]
pub struct Log {
    /// The recorded exchanges, in the order they were sent.
    #[serde(default)]
    pub entries: Vec<Entry>,
}

/// One request and its response.
#[derive(Debug, Deserialize)]
pub struct Entry {
    /// What was sent.
    pub request: Request,
    /// What came back.
    pub response: Response,
}

/// `request`.
#[derive(Debug, Deserialize)]
pub struct Request {
    /// Method.
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Headers (HTTP/2 recordings include pseudo-headers such as `:authority`).
    #[serde(default)]
    pub headers: Vec<Pair>,
    /// The body, if any.
    #[serde(rename = "postData")]
    pub post_data: Option<PostData>,
}

/// `postData`.
#[derive(Debug, Deserialize)]
pub struct PostData {
    /// Its media type.
    #[serde(rename = "mimeType", default)]
    pub mime_type: String,
    /// The body as text.
    pub text: Option<String>,
    /// Form fields, when the recorder parsed them.
    #[serde(default)]
    pub params: Vec<Pair>,
}

/// `response`.
#[derive(Debug, Deserialize)]
pub struct Response {
    /// Status (0 when the request failed or was blocked).
    pub status: u16,
    /// Headers.
    #[serde(default)]
    pub headers: Vec<Pair>,
    /// The body.
    #[serde(default)]
    pub content: Content,
}

/// `response.content`.
#[derive(Debug, Default, Deserialize)]
pub struct Content {
    /// Its media type.
    #[serde(rename = "mimeType", default)]
    pub mime_type: String,
    /// The body as text (absent when the recorder did not keep it).
    pub text: Option<String>,
    /// `base64` when `text` is encoded.
    pub encoding: Option<String>,
}

/// A name and a value (headers, query parameters, form fields).
#[derive(Debug, Clone, Deserialize)]
pub struct Pair {
    /// Name.
    pub name: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}
