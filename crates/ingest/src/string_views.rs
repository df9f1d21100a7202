//! Reading text columns by their string views (16 bytes a value: length, first bytes, and for
//! a value over 12 bytes where its text lies). A decoded Parquet dictionary repeats one view for
//! a repeated value, so the checks keep what they learnt about a value in a small cache keyed
//! by its view. A long value's view points into its own array's buffers: such a cache belongs
//! to one array and starts afresh with the next.

use polars::prelude::*;

/// The array type of a text column's chunks.
pub(crate) type TextArray = <StringType as PolarsDataType>::Array;

/// A bit pattern no string view has (its length would be 4 GiB): an empty cache slot.
pub(crate) const NO_VIEW: u128 = u128::MAX;

/// The slot of view `key` in a direct-mapped cache of `slots` entries (a power of two).
pub(crate) fn view_slot(key: u128, slots: usize) -> usize {
    debug_assert!(slots.is_power_of_two() && slots > 1);
    let x = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - slots.trailing_zeros())) as usize
}
