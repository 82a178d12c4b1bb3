//! Content decoding: the input is `JSON text [0x00 tail]`. A JSON object decodes to a
//! content or `Error::Content`, never a panic; a decoded content re-encodes to a header
//! that decodes to the same content.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use meshagent_room::{Content, Error};
use serde_json::Value;

fuzz_target!(|input: &[u8]| {
    let (json, tail) = match input.iter().position(|b| *b == 0) {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (input, &[][..]),
    };
    let Ok(Value::Object(header)) = serde_json::from_slice::<Value>(json) else {
        return;
    };
    match Content::from_parts(header, Bytes::copy_from_slice(tail)) {
        Ok(content) => {
            let Value::Object(again) = content.header() else {
                panic!("a content header is an object");
            };
            let tail = Bytes::copy_from_slice(content.tail());
            assert_eq!(Content::from_parts(again, tail).ok(), Some(content));
        }
        Err(Error::Content(message)) => assert!(!message.is_empty()),
        Err(other) => panic!("untyped content error: {other:?}"),
    }
});
