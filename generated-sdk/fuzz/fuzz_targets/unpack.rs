//! Message unpacking: arbitrary bytes unpack to `Ok` or one of the typed errors; what
//! unpacks packs back to something that unpacks the same; `unpack` and `unpack_as` agree.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use meshagent_room::wire::packing::{pack, unpack, unpack_as, PackError, MESHAGENT_KEY};
use serde_json::{Map, Value};

fuzz_target!(|input: &[u8]| {
    let data = Bytes::copy_from_slice(input);
    let as_map = unpack_as::<Map<String, Value>>(&data);
    let _ = unpack_as::<Value>(&data);
    match unpack(data) {
        Ok(packed) => {
            assert!(!packed.header.contains_key(MESHAGENT_KEY));
            assert!(as_map.is_ok(), "unpack_as disagrees: {as_map:?}");
            let again = pack(&packed.header, &packed.tail).expect("an object packs");
            let again = unpack(again.into()).expect("what we pack unpacks");
            assert_eq!(again.tail, packed.tail);
            assert_eq!(again.header.len(), packed.header.len());
        }
        Err(
            PackError::Truncated { .. }
            | PackError::HeaderLengthBeyondPayload { .. }
            | PackError::HeaderNotJson(_)
            | PackError::HeaderNotObject,
        ) => assert!(as_map.is_err(), "unpack_as accepted what unpack refused"),
        Err(other) => panic!("unexpected error from unpack: {other:?}"),
    }
});
