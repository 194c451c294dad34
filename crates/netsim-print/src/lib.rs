//! kubectl's output layer for netsim.
//!
//! This crate owns turning stored objects into the exact bytes a kubectl v1.32 client prints:
//! `get` tables ([`table`]) laid out by a port of Go's `text/tabwriter` ([`tabwriter`]),
//! `describe` ([`describe`](mod@describe)), `-o yaml`/`-o json` ([`yaml`]), `-o jsonpath` and
//! `-o custom-columns` ([`jsonpath`]), `-o name` and success messages ([`name`]), and ages
//! ([`duration`]).
//!
//! Printers compute nothing about the cluster: they format what the [`netsim_model::Store`]
//! holds, at the instant they are given. They must never mutate the store, read a clock, do IO
//! or iterate a hash map.

pub mod bind;
mod common;
pub mod describe;
pub mod dig;
pub mod duration;
pub mod graph;
pub mod iproute2;
pub mod iptables;
pub mod jsonpath;
pub mod name;
pub mod runtime;
pub mod table;
pub mod tabwriter;
pub mod trace;
pub mod yaml;

pub use common::go_quote;
pub use describe::{describe, describe_list, describe_prefix_matches};
pub use duration::human_duration;
pub use jsonpath::{JsonPath, JsonPathError, custom_columns};
pub use name::{DryRun, delete_message, message, object_name};
pub use table::{TableOptions, WatchPrinter, header, render_get, row};
pub use tabwriter::TabWriter;
pub use yaml::{list_to_json, list_to_yaml, to_json, to_yaml};
