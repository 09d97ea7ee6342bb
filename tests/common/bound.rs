//! An acceptance bound on a simulated rate, with the figure the simulation gave.

/// A bound a measured rate must respect.
#[derive(Clone, Copy)]
pub enum Bound {
    /// Rate at most .0; simulation gave .1.
    AtMost(f64, f64),
    /// Rate at least .0; simulation gave .1.
    AtLeast(f64, f64),
}

impl Bound {
    /// Whether `rate` respects the bound.
    pub fn holds(self, rate: f64) -> bool {
        match self {
            Bound::AtMost(b, _) => rate <= b,
            Bound::AtLeast(b, _) => rate >= b,
        }
    }
    /// The bound itself.
    pub fn value(self) -> f64 {
        match self {
            Bound::AtMost(b, _) | Bound::AtLeast(b, _) => b,
        }
    }
    /// What the simulation gave.
    pub fn simulated(self) -> f64 {
        match self {
            Bound::AtMost(_, s) | Bound::AtLeast(_, s) => s,
        }
    }
    /// `<=` or `>=`.
    pub fn symbol(self) -> &'static str {
        match self {
            Bound::AtMost(..) => "<=",
            Bound::AtLeast(..) => ">=",
        }
    }
}
