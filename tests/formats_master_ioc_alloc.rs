//! The Master IoC reader allocates nothing per row: counted with a global allocator that
//! tallies the allocations made on the current thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;

use connector_kaspersky::formats::master_ioc::rows;

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the thread-local
// counter is const-initialised, so touching it never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn csv(rows: usize) -> String {
    let mut text = String::from("uid,publication,indicator,detection_date,indicator_type\n");
    for i in 0..rows {
        let publication = if i % 3 == 0 {
            "'Example Report, quoted'"
        } else {
            "Example Report"
        };
        text.push_str(&format!(
            "{i:032x},{publication},host{i}.example.com,2024-01-{:02},networkActivity\n",
            i % 28 + 1
        ));
    }
    text
}

/// Allocations made while reading every row of `text`.
fn allocations_to_read(text: &str) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    let mut count = 0;
    for row in rows(text) {
        let row = row.unwrap();
        assert!(matches!(row.indicator, Cow::Borrowed(_)) && matches!(row.uid, Cow::Borrowed(_)));
        assert!(matches!(row.publication, Cow::Borrowed(_)));
        count += 1;
    }
    assert!(count > 0);
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn reading_rows_allocates_nothing_per_row() {
    let small = csv(1_000);
    let large = csv(50_000);
    let for_small = allocations_to_read(&small);
    let for_large = allocations_to_read(&large);
    assert_eq!(
        for_small, for_large,
        "allocations grew with the number of rows"
    );
    assert!(for_large < 50, "{for_large} allocations");
}
