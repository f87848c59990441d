//! What both connections share and need no heap for: the close rules as one state table ([`state`]) and
//! the timers (keepalive, write and close timeouts) driven by the caller's instants ([`timer`]). The
//! buffered [`Connection`](crate::Connection) and the heap-free
//! [`unbuffered::connection::Connection`](crate::unbuffered::connection::Connection) run on them.

pub(crate) mod state;
pub(crate) mod timer;
