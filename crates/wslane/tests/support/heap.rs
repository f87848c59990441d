//! A counting global allocator, per thread: live bytes, their peak and the largest single block. Tests run
//! on several threads at once, so only the calling thread's allocations are counted (each connection here
//! is driven by one thread).
//!
//! A global allocator is per test binary: a test file that wants it declares
//! `#[path = "support/heap.rs"] mod heap;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn on_alloc(size: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + size as isize;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
    let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
}

fn on_free(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get() - size as isize));
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            on_alloc(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            on_alloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_free(layout.size());
        // SAFETY: `ptr` came from `System` with this layout, as the caller promises.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with this layout, as the caller promises.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            on_free(layout.size());
            on_alloc(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// This thread's live heap bytes.
#[allow(dead_code)]
pub(crate) fn live() -> isize {
    LIVE.with(Cell::get)
}

/// This thread's heap use from now on: call [`HeapWatch::peak`] and [`HeapWatch::largest`] later.
pub(crate) struct HeapWatch {
    base: isize,
}

impl HeapWatch {
    pub(crate) fn start() -> HeapWatch {
        let base = LIVE.with(Cell::get);
        PEAK.with(|peak| peak.set(base));
        LARGEST.with(|largest| largest.set(0));
        HeapWatch { base }
    }

    /// The most bytes live at once since the start, above what was live at the start.
    pub(crate) fn peak(&self) -> usize {
        (PEAK.with(Cell::get) - self.base).max(0) as usize
    }

    /// The largest single allocation (or reallocation) since the start.
    #[allow(dead_code)]
    pub(crate) fn largest(&self) -> usize {
        LARGEST.with(Cell::get)
    }
}
