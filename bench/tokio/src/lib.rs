//! The Tokio RPC baseline's library: msgpack primitives, the bench.v1.Bench
//! service and the per-connection protocol state machine (docs/PROTOCOL.md).
//! src/bin/rpc_server.rs owns sockets and the runtime; nothing here does socket I/O.
//! server_options: the command line and runtime both server binaries share.

pub mod bench_service;
pub mod connection;
pub mod frames;
pub mod msgpack;
pub mod server_options;
