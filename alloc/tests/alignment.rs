//! Every request gets a block of its alignment, on both paths, and keeps its bytes through
//! `realloc`: sizes around each mimalloc size class, alignments from 1 to 4 KiB.

use core::alloc::{GlobalAlloc, Layout};

use otpgate_alloc::MiMalloc;

const SIZES: &[usize] = &[
    1,
    2,
    3,
    4,
    7,
    8,
    9,
    12,
    15,
    16,
    17,
    24,
    31,
    32,
    33,
    40,
    48,
    56,
    63,
    64,
    65,
    80,
    96,
    112,
    127,
    128,
    129,
    160,
    192,
    255,
    256,
    257,
    320,
    448,
    511,
    512,
    513,
    640,
    1000,
    1023,
    1024,
    1025,
    1500,
    2047,
    2048,
    2049,
    3000,
    4095,
    4096,
    4097,
    8192,
    10_000,
    65_536,
    100_000,
    1 << 20,
];

fn aligns() -> impl Iterator<Item = usize> {
    (0..=12).map(|shift| 1usize << shift)
}

fn fill(ptr: *mut u8, len: usize, seed: usize) {
    for i in 0..len {
        // SAFETY: `ptr` holds at least `len` bytes, allocated by the caller.
        unsafe { ptr.add(i).write((i + seed) as u8) }
    }
}

fn holds(ptr: *const u8, len: usize, seed: usize) -> bool {
    // SAFETY: `ptr` holds at least `len` initialised bytes.
    (0..len).all(|i| unsafe { ptr.add(i).read() } == (i + seed) as u8)
}

fn all_zero(ptr: *const u8, len: usize) -> bool {
    // SAFETY: `ptr` holds at least `len` bytes, which `alloc_zeroed` initialised.
    (0..len).all(|i| unsafe { ptr.add(i).read() } == 0)
}

#[test]
fn every_block_has_its_alignment_and_its_bytes() {
    for align in aligns() {
        for &size in SIZES {
            let layout = Layout::from_size_align(size, align).expect("a valid layout");
            // SAFETY: a non-zero size; the block is freed with the same layout.
            let ptr = unsafe { MiMalloc.alloc(layout) };
            assert!(!ptr.is_null(), "size {size} align {align}");
            assert_eq!(ptr as usize % align, 0, "size {size} align {align}");
            fill(ptr, size, align);
            assert!(holds(ptr, size, align), "size {size} align {align}");
            // SAFETY: allocated above with `layout`.
            unsafe { MiMalloc.dealloc(ptr, layout) };
        }
    }
}

#[test]
fn zeroed_blocks_are_zero_and_aligned() {
    for align in aligns() {
        for &size in SIZES {
            let layout = Layout::from_size_align(size, align).expect("a valid layout");
            // Dirty blocks of this class first, so that a zeroed one may reuse them.
            // SAFETY: as in the test above.
            let dirty = unsafe { MiMalloc.alloc(layout) };
            fill(dirty, size, 1);
            // SAFETY: allocated above with `layout`.
            unsafe { MiMalloc.dealloc(dirty, layout) };
            // SAFETY: a non-zero size; freed below with the same layout.
            let ptr = unsafe { MiMalloc.alloc_zeroed(layout) };
            assert!(!ptr.is_null());
            assert_eq!(ptr as usize % align, 0, "size {size} align {align}");
            assert!(all_zero(ptr, size), "size {size} align {align}");
            // SAFETY: allocated above with `layout`.
            unsafe { MiMalloc.dealloc(ptr, layout) };
        }
    }
}

#[test]
fn realloc_keeps_the_alignment_and_the_bytes_both_ways() {
    for align in aligns() {
        for &from in SIZES {
            for &to in SIZES.iter().filter(|&&s| s <= 65_536) {
                let layout = Layout::from_size_align(from, align).expect("a valid layout");
                // SAFETY: a non-zero size.
                let ptr = unsafe { MiMalloc.alloc(layout) };
                fill(ptr, from, from);
                // SAFETY: `ptr` came from `alloc(layout)`; `to` is non-zero and, rounded up
                // to `align`, far below `isize::MAX`.
                let moved = unsafe { MiMalloc.realloc(ptr, layout, to) };
                assert!(!moved.is_null(), "{from} -> {to} align {align}");
                assert_eq!(moved as usize % align, 0, "{from} -> {to} align {align}");
                assert!(
                    holds(moved, from.min(to), from),
                    "{from} -> {to} align {align}"
                );
                let grown = Layout::from_size_align(to, align).expect("a valid layout");
                // SAFETY: `moved` is the block `realloc` returned, now of layout `grown`.
                unsafe { MiMalloc.dealloc(moved, grown) };
            }
        }
    }
}
