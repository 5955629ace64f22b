//! Work spread over a fixed number of threads, results handed back in the calling thread as
//! they finish. The channel holds at most two results a worker, so memory stays bounded.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;

/// Runs `work` on every item with `jobs` threads; `consume` gets (index, result) in the caller.
/// When `consume` breaks, no further item is started, and the results still on their way are
/// dropped.
pub fn for_each_parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
    consume: impl FnMut(usize, R) -> ControlFlow<()>,
) {
    for_each_parallel_with(items, jobs, || (), |(), item| work(item), consume);
}

/// [`for_each_parallel`] where each thread makes its own state with `init` (buffers, caches) and
/// hands it to `work` with every item it takes; the state is dropped on that thread when it ends.
pub fn for_each_parallel_with<T: Sync, R: Send, S>(
    items: &[T],
    jobs: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &T) -> R + Sync,
    mut consume: impl FnMut(usize, R) -> ControlFlow<()>,
) {
    let jobs = jobs.clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let (sender, receiver) = sync_channel(jobs * 2);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let (next, init, work) = (&next, &init, &work);
            scope.spawn(move || {
                let mut state = init();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else { break };
                    if sender.send((index, work(&mut state, item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // The loop owns the receiver: breaking drops it, which fails the workers' pending sends.
        for (index, result) in receiver {
            if consume(index, result).is_break() {
                next.store(items.len(), Ordering::Relaxed);
                break;
            }
        }
    });
}

/// The default number of worker threads: the machine's cores.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_item_is_worked_once_and_handed_back() {
        let items: Vec<u64> = (0..1000).collect();
        let mut seen = vec![0u64; items.len()];
        super::for_each_parallel(
            &items,
            3,
            |x| x * 2,
            |i, r| {
                seen[i] = r;
                std::ops::ControlFlow::Continue(())
            },
        );
        assert_eq!(seen, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_break_stops_taking_items() {
        let items: Vec<u64> = (0..100_000).collect();
        let mut consumed = 0;
        super::for_each_parallel(
            &items,
            2,
            |x| *x,
            |_, _| {
                consumed += 1;
                if consumed == 10 {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            },
        );
        assert_eq!(consumed, 10);
    }
}
