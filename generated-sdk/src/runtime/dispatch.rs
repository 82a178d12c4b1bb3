//! Support for the generated `dispatch` methods (feature `dispatch`): JSON arguments in,
//! typed call, JSON result out.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::runtime::error::{Error, Result};

/// Decodes a tool's JSON arguments (an object with wire names; `null` means none).
pub(crate) fn args<T: DeserializeOwned>(tool: &str, args: Value) -> Result<T> {
    let args = if args.is_null() {
        Value::Object(Default::default())
    } else {
        args
    };
    serde_json::from_value(args).map_err(|e| Error::InvalidArguments(format!("{tool}: {e}")))
}

/// Encodes a typed result as JSON (`()` becomes `null`).
pub(crate) fn result<T: Serialize>(r: Result<T>) -> Result<Value> {
    serde_json::to_value(r?)
        .map_err(|e| Error::InvalidArguments(format!("result is not JSON: {e}")))
}
