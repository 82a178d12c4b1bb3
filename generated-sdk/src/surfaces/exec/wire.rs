//! What exec puts on the wire beyond the stream engine: its channel numbers, the start and
//! input chunk headers, and how a response chunk is read.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::{ExecCommand, ExitStatus};
use crate::core::content::Content;
use crate::core::error::{Error, Result};

/// The toolkit and tool of an exec session.
pub(super) const TOOLKIT: &str = "containers";
pub(super) const TOOL_NAME: &str = "exec";
/// `toolkit.tool`, for errors.
pub(super) const TOOL: &str = "containers.exec";

/// Every channel number of `containers.exec`, from the spec (`spec/containers.yaml`
/// `constants`): input channels on request chunks, output channels on response chunks.
pub(super) mod channel {
    pub(crate) use crate::containers::exec_input_channel::{CLOSE_STDIN, KILL, RESIZE, STDIN};
    pub(crate) use crate::containers::exec_output_channel::{STATUS, STDERR, STDOUT};
}

/// The start chunk: `{"kind": "start", "request_id", "container_id", "command", "tty"}`,
/// unset `command`/`tty` as `null`, in the Python order.
pub(super) fn start_chunk(
    request_id: &str,
    container_id: String,
    command: &ExecCommand,
    tty: Option<bool>,
) -> Content {
    let mut start = Map::new();
    start.insert("kind".into(), "start".into());
    start.insert("request_id".into(), request_id.into());
    start.insert("container_id".into(), container_id.into());
    start.insert("command".into(), command.to_json());
    start.insert("tty".into(), tty.map_or(Value::Null, Value::Bool));
    Content::Binary {
        headers: start,
        data: Bytes::new(),
    }
}

/// An input chunk on `channel` carrying `data`.
pub(super) fn input_chunk(channel: i64, size: Option<(u16, u16)>, data: Bytes) -> Content {
    Content::Binary {
        headers: input_headers(channel, size),
        data,
    }
}

/// `{"kind": "input", "channel", "width", "height"}`, nulls included, in the Python order.
fn input_headers(channel: i64, size: Option<(u16, u16)>) -> Map<String, Value> {
    let (width, height) = size.map_or((Value::Null, Value::Null), |(w, h)| (w.into(), h.into()));
    let mut m = Map::new();
    m.insert("kind".into(), "input".into());
    m.insert("channel".into(), channel.into());
    m.insert("width".into(), width);
    m.insert("height".into(), height);
    m
}

/// One response chunk (not the close, which the engine reads), as the Python SDK reads it.
pub(super) enum Step {
    Output(i64, Bytes),
    Ignore,
    Exit(ExitStatus),
}

pub(super) fn classify(chunk: Content) -> Result<Step> {
    let (headers, data) = match chunk {
        Content::Binary { headers, data } => (headers, data),
        Content::Error { text, code } => return Err(Error::server(code, text)),
        other => {
            return Err(Error::unexpected(
                TOOL,
                format!("unexpected stream chunk: {}", other.header()),
            ))
        }
    };
    // An integer, not a bool or a float (Python: `isinstance(v, int) and not bool`).
    let number = headers.get("channel").and_then(|v| match v {
        Value::Number(n) => n.as_i64(),
        _ => None,
    });
    match number {
        Some(c @ (channel::STDOUT | channel::STDERR)) => Ok(Step::Output(c, data)),
        Some(channel::STATUS) => {
            let status = serde_json::from_slice::<Value>(&data)
                .ok()
                .and_then(|v| v.get("status").and_then(Value::as_i64));
            status
                .map(|s| Step::Exit(ExitStatus(s)))
                .ok_or_else(|| Error::unexpected(TOOL, "returned an invalid status payload"))
        }
        Some(other) => {
            tracing::warn!(
                channel = other,
                "ignoring an unexpected containers.exec channel"
            );
            Ok(Step::Ignore)
        }
        None => Err(Error::unexpected(
            TOOL,
            "returned a chunk without a valid channel",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn binary(headers: Value, data: &'static [u8]) -> Content {
        match headers {
            Value::Object(headers) => Content::Binary {
                headers,
                data: Bytes::from_static(data),
            },
            _ => unreachable!(),
        }
    }

    #[test]
    fn channels_are_integers_only() {
        for bad in [
            json!({}),
            json!({"channel": true}),
            json!({"channel": 1.0}),
            json!({"channel": "1"}),
        ] {
            assert!(classify(binary(bad, b"x")).is_err());
        }
        assert!(matches!(
            classify(binary(json!({"channel": 7}), b"x")),
            Ok(Step::Ignore)
        ));
        assert!(matches!(
            classify(binary(json!({"channel": 2}), b"x")),
            Ok(Step::Output(2, _))
        ));
    }

    #[test]
    fn status_payload_is_json_with_an_integer_status() {
        let ok = classify(binary(json!({"channel": 3}), br#"{"status": 137}"#));
        assert!(matches!(ok, Ok(Step::Exit(ExitStatus(137)))));
        for bad in [
            &b"{}"[..],
            b"137",
            b"{\"status\": \"0\"}",
            b"{\"status\": true}",
            b"\xff",
        ] {
            let chunk = Content::Binary {
                headers: json!({"channel": 3})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                data: Bytes::copy_from_slice(bad),
            };
            assert!(classify(chunk).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn commands_convert() {
        assert_eq!(ExecCommand::from("ls -l").to_json(), json!("ls -l"));
        assert_eq!(
            ExecCommand::from(["ls", "-l"]).to_json(),
            json!(["ls", "-l"])
        );
        assert_eq!(ExecCommand::from(None::<&str>).to_json(), Value::Null);
        assert_eq!(
            serde_json::to_string(&input_headers(4, Some((80, 24)))).ok(),
            Some(r#"{"kind":"input","channel":4,"width":80,"height":24}"#.to_string())
        );
    }
}
