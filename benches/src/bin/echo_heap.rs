//! The `echo_server` example of wslane-tokio with a counting allocator, for `wsload after`: it prints its
//! live heap on standard output when it starts and whenever its last open connection ends, so a report
//! can set the heap the server still holds beside its resident memory.
//!
//! ```text
//! echo_heap 127.0.0.1:9001 [--trim]
//! ```
//!
//! With `--trim` (glibc only), it also asks the allocator to return its free memory to the system
//! (`malloc_trim(0)`) after each such line, which shows how much of the resident memory was the
//! allocator's cache rather than live data.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use wslane_tokio::{Acceptance, Config, DeflateConfig, PerMessageDeflate, ServerConfig};

/// The live heap and its peak, in bytes, over every thread.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct Counting;

fn allocated(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            allocated(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with this layout, as the caller promises.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with this layout, as the caller promises.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            allocated(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: glibc's `malloc_trim` takes a byte count and only releases free memory.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

fn report(open: usize) {
    println!(
        "heap: live {} B, peak {} B, {open} connections open",
        LIVE.load(Ordering::Relaxed),
        PEAK.load(Ordering::Relaxed)
    );
}

/// Counts a connection while it lives; the last one to end reports the heap.
struct Open(Arc<AtomicUsize>, bool);

impl Drop for Open {
    fn drop(&mut self) {
        if self.0.fetch_sub(1, Ordering::AcqRel) == 1 {
            report(0);
            if self.1 {
                trim();
            }
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    let trim_after = args.any(|arg| arg == "--trim");
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    report(0);
    let mut server = ServerConfig::default();
    server
        .extensions
        .push(Arc::new(PerMessageDeflate::new(DeflateConfig::fastest())));
    let server = Arc::new(server);
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let (tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        open.fetch_add(1, Ordering::AcqRel);
        let guard = Open(open.clone(), trim_after);
        let server = server.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let accepted =
                wslane_tokio::accept_with(
                    tcp,
                    server,
                    Config::default(),
                    |_| Ok(Acceptance::new()),
                );
            let mut ws = match accepted.await {
                Ok(ws) => ws,
                Err(err) => return eprintln!("{peer}: handshake failed: {err}"),
            };
            if let Err(err) = wslane_benches::echo::wslane_tokio::echo(&mut ws).await {
                eprintln!("{peer}: {err}");
            }
        });
    }
}
