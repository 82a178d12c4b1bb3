//! Hand-written conveniences the generated `RoomClient::dispatch` tries before its
//! generated arms (feature `dispatch`).

use serde_json::Value;

use crate::core::error::Result;
use crate::RoomClient;

/// The convenience that answers `method` with these arguments, if any: with the `arrow`
/// feature, the Arrow data of the 0.56 `dataset`/`sqlite` calls taken and given as JSON rows
/// and schema fields, as the SDKs hand them out (see `surfaces::tables::dispatch`). `None`:
/// the generated arm answers.
pub(crate) async fn conveniences(
    room: &RoomClient,
    method: &str,
    args: &Value,
    input: &[Value],
) -> Option<Result<Value>> {
    #[cfg(all(
        feature = "arrow",
        not(feature = "protocol-0-35-8"),
        any(feature = "dataset", feature = "sqlite")
    ))]
    if let Some(r) = super::tables::dispatch::dispatch(room, method, args, input).await {
        return Some(r);
    }
    let _ = (room, method, args, input);
    None
}
