//! The internal representation: the spec with names resolved, types parsed and every
//! rule checked. The emitter only ever sees a valid [`Api`].
//!
//! Stages: [`build`] reads the flow table ([`flows`]) and walks the loaded files
//! ([`tools`] and [`types`] hold the per-item rules), then [`checks`] runs the rules that
//! span files. [`model`] holds the IR types.

mod build;
mod checks;
mod flows;
mod model;
mod tools;
mod types;

pub use build::{build, build_version};
pub use model::*;
pub use types::parse_type;
