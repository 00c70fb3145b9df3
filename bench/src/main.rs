// SPDX-License-Identifier: GPL-2.0

//! pk-bench: the prockill benchmarks (`make bench`), run in the guest.

fn main() {
    println!("pk-bench: not implemented yet");
}
