//! Bringing existing work in: recordings become scenarios. Imports read untrusted files: every
//! value is escaped where it is written, nothing in them is executed or fetched, and a
//! credential they hold is never written out.

pub mod har;
