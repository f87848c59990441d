//! [`WakerGroup`]: every task waiting on one event of a socket (the transport taking output, the timer),
//! behind the one waker that event source keeps.

use core::task::{Context, Poll, Waker};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;
use std::vec::Vec;

/// The tasks of one group, woken together, and how many times they were.
#[derive(Debug, Default)]
struct WakerSet {
    tasks: Mutex<Tasks>,
    wakes: AtomicUsize,
}

/// The waiting tasks: the first in place, so the common case (one task waits, is woken, waits again)
/// allocates nothing; the others (the second half of a split socket) in a list.
#[derive(Debug, Default)]
struct Tasks {
    first: Option<Waker>,
    more: Vec<Waker>,
}

impl WakerSet {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tasks> {
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn insert(&self, waker: &Waker) {
        let mut tasks = self.lock();
        let Tasks { first, more } = &mut *tasks;
        match first {
            None => *first = Some(waker.clone()),
            Some(first) if first.will_wake(waker) => {}
            Some(_) => {
                if !more.iter().any(|w| w.will_wake(waker)) {
                    more.push(waker.clone());
                }
            }
        }
    }
}

impl Wake for WakerSet {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Taken out of the lock first: a task woken here may run at once on another thread and join again.
        let (first, more) = {
            let mut tasks = self.lock();
            (tasks.first.take(), core::mem::take(&mut tasks.more))
        };
        self.wakes.fetch_add(1, Ordering::AcqRel);
        first.into_iter().chain(more).for_each(Waker::wake);
    }
}

/// A set of waiting tasks and the one waker, made once, that wakes them all: an event source keeps only
/// the last waker it was polled with, so two tasks of one socket (the halves of a split) that wait on the
/// same source each join the group rather than take the other's place.
#[derive(Debug)]
pub(crate) struct WakerGroup {
    set: Arc<WakerSet>,
    waker: Waker,
}

impl Default for WakerGroup {
    fn default() -> WakerGroup {
        let set = Arc::<WakerSet>::default();
        let waker = Waker::from(Arc::clone(&set));
        WakerGroup { set, waker }
    }
}

impl WakerGroup {
    /// The group's waker, to give the event source.
    pub(crate) fn waker(&self) -> &Waker {
        &self.waker
    }

    /// Adds `waker`'s task to the group.
    pub(crate) fn join(&self, waker: &Waker) {
        self.set.insert(waker);
    }

    /// How many times the group was woken: while it has not changed, a task that joined is still
    /// waiting in it.
    pub(crate) fn wakes(&self) -> usize {
        self.set.wakes.load(Ordering::Acquire)
    }

    /// Wakes every task of the group.
    pub(crate) fn wake(&self) {
        self.waker.wake_by_ref();
    }

    /// Polls an event source with the group's waker. The task of `cx` joins the group only when the
    /// source is not ready, and the source is then polled once more, so a wake-up that came between the
    /// two reaches it: a source that is ready at once (the common case for a write) costs no lock.
    pub(crate) fn poll<T>(
        &self,
        cx: &Context<'_>,
        mut source: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        let mut group_cx = Context::from_waker(&self.waker);
        if let Poll::Ready(value) = source(&mut group_cx) {
            return Poll::Ready(value);
        }
        self.join(cx.waker());
        source(&mut group_cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_source_ready_at_once_adds_no_task_and_a_pending_one_wakes_every_task_once() {
        let group = WakerGroup::default();
        let (a, b) = (
            Arc::new(Count(AtomicUsize::new(0))),
            Arc::new(Count(AtomicUsize::new(0))),
        );
        let (wa, wb) = (Waker::from(Arc::clone(&a)), Waker::from(Arc::clone(&b)));

        let ready = group.poll(&Context::from_waker(&wa), |_| Poll::Ready(1));
        assert_eq!(ready, Poll::Ready(1));
        group.wake();
        assert_eq!(
            a.0.load(Ordering::SeqCst),
            0,
            "a ready source left no task behind"
        );

        let mut kept = None;
        for waker in [&wa, &wb, &wa] {
            let polled = group.poll(&Context::from_waker(waker), |cx| {
                kept = Some(cx.waker().clone());
                Poll::<()>::Pending
            });
            assert!(polled.is_pending());
        }
        let wakes = group.wakes();
        kept.expect("the source was polled").wake();
        assert_eq!(group.wakes(), wakes + 1);
        assert_eq!(a.0.load(Ordering::SeqCst), 1, "joined twice, woken once");
        assert_eq!(b.0.load(Ordering::SeqCst), 1);
        group.wake();
        assert_eq!(a.0.load(Ordering::SeqCst), 1, "a wake-up empties the group");
    }

    #[test]
    fn one_waiting_task_is_kept_in_place() {
        let group = WakerGroup::default();
        let task = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&task));
        for round in 1..=3 {
            group.join(&waker);
            group.join(&waker);
            assert_eq!(group.set.lock().more.capacity(), 0, "no list for one task");
            group.wake();
            assert_eq!(task.0.load(Ordering::SeqCst), round);
        }
    }

    #[test]
    fn a_wake_between_the_two_polls_is_not_lost() {
        let group = WakerGroup::default();
        let task = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&task));
        let mut polls = 0;
        let polled = group.poll(&Context::from_waker(&waker), |_| {
            polls += 1;
            // Ready by the second poll, as a source that became ready just after saying Pending.
            if polls == 2 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        });
        assert_eq!(polled, Poll::Ready(()));
        assert_eq!(polls, 2);
    }
}
