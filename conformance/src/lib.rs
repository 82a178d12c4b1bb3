//! Conformance harness: replays calls recorded from the official MeshAgent SDKs against
//! a client, through a scripted room server that speaks the wire format on its own.
//!
//! * [`case`]: the recorded case files and their loader;
//! * [`normalize`]: the only differences allowed between a recording and a replay;
//! * [`wire`]: packet framing and packing, written independently of the SDK's;
//! * [`server`]: the scripted websocket room that plays one case;
//! * [`coverage`]: which spec methods the cases exercise;
//! * [`replay`]: runs cases against the generated client.
//!
//! The scripted server's framing ([`wire`]) does not use the SDK's, so a framing bug
//! cannot hide on both sides.
#![deny(missing_docs)]

pub mod case;
pub mod coverage;
pub mod normalize;
pub mod replay;
pub mod server;
pub mod wire;
