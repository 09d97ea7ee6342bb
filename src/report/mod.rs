//! Reports: views of results for people. Reports only ever receive results (`model`).

pub mod console;
