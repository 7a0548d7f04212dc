//! otpgate's global allocator: mimalloc, reached through `libmimalloc-sys`.
//!
//! The `mimalloc` crate's `GlobalAlloc` sends every request to `mi_malloc_aligned`. In mimalloc
//! 3 that path serves a size whose block is not a power of two (48, 80, 1 500 bytes...) by
//! over-allocating, even at an alignment of 8: about 70 instructions a request instead of 20, and
//! larger blocks (docs/performance.md, thirteenth round). Here a request whose alignment
//! mimalloc's plain functions already give goes to them, by the rule of the standard library's
//! own `System` allocator: an alignment of at most 16 (`MI_MAX_ALIGN_SIZE`, which `mi_malloc`
//! guarantees for every block of more than 8 bytes) and no larger than the size. Every other
//! request keeps the aligned functions.

#![no_std]

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

use libmimalloc_sys as mi;

/// The alignment every `mi_malloc` block of at least this many bytes has.
const PLAIN_ALIGN: usize = 16;

/// mimalloc as the global allocator (`#[global_allocator] static A: MiMalloc = MiMalloc;`).
pub struct MiMalloc;

/// Whether mimalloc's plain functions give `size` bytes at `align`.
#[inline]
fn plain_aligns(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: every pointer comes from mimalloc and goes back to it; `plain_aligns` holds only where
// mimalloc documents the plain functions' alignment, and the aligned ones serve the rest.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain_aligns(layout.align(), layout.size()) {
            // SAFETY: a plain allocation of a non-zero size (`GlobalAlloc`'s contract).
            unsafe { mi::mi_malloc(layout.size()) as *mut u8 }
        } else {
            // SAFETY: `Layout` guarantees a power-of-two alignment.
            unsafe { mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8 }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain_aligns(layout.align(), layout.size()) {
            // SAFETY: as in `alloc`.
            unsafe { mi::mi_zalloc(layout.size()) as *mut u8 }
        } else {
            // SAFETY: as in `alloc`.
            unsafe { mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8 }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (`GlobalAlloc`'s contract); mimalloc frees any
        // of its blocks, aligned or not, with `mi_free`.
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if plain_aligns(layout.align(), new_size) {
            // SAFETY: `ptr` came from this allocator with `layout`; the new block keeps the
            // alignment by the same rule as `alloc`.
            unsafe { mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8 }
        } else {
            // SAFETY: as above, with the alignment asked for again.
            unsafe {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}
