//! The spec: its YAML model and the loader that reads it.

pub mod load;
pub mod locate;
pub mod model;
pub mod versions;
