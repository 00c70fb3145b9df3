//! The ioctl request numbers of the kill node, encoded by libc's `_IOR` and
//! `_IOW` (which know every architecture's layout) from the magic and the
//! struct sizes of the generated [`uapi`] bindings. A test
//! compiles the header with a C compiler and compares.
//!
//! **Unstable**: see [`unstable`](super).
//!
//! ```
//! use prockill::unstable::ioctl::*;
//! # #[cfg(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "riscv64"))]
//! assert_eq!(PROCKILL_IOC_INFO, 0x8038_b901);
//! ```

use super::uapi;

/// `PROCKILL_IOC_INFO`: `_IOR(0xB9, 1, struct prockill_info)`.
pub const PROCKILL_IOC_INFO: u32 =
    libc::_IOR::<uapi::prockill_info>(uapi::PROCKILL_IOC_MAGIC, 1) as u32;

/// `PROCKILL_IOC_SEND`: `_IOW(0xB9, 2, struct prockill_send)`.
pub const PROCKILL_IOC_SEND: u32 =
    libc::_IOW::<uapi::prockill_send>(uapi::PROCKILL_IOC_MAGIC, 2) as u32;

/// `PROCKILL_IOC_SET_POLICY`: `_IOW(0xB9, 3, __u32)`.
pub const PROCKILL_IOC_SET_POLICY: u32 =
    libc::_IOW::<uapi::__u32>(uapi::PROCKILL_IOC_MAGIC, 3) as u32;

/// `PROCKILL_IOC_SEND_VALUE`: `_IOW(0xB9, 4, struct prockill_send_value)`.
pub const PROCKILL_IOC_SEND_VALUE: u32 =
    libc::_IOW::<uapi::prockill_send_value>(uapi::PROCKILL_IOC_MAGIC, 4) as u32;

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn known_values() {
        // Worked by hand from asm-generic/ioctl.h.
        assert_eq!(PROCKILL_IOC_INFO, (2 << 30) | (56 << 16) | (0xb9 << 8) | 1);
        assert_eq!(PROCKILL_IOC_INFO, 0x8038_b901);
        assert_eq!(PROCKILL_IOC_SEND, 0x4008_b902);
        assert_eq!(PROCKILL_IOC_SET_POLICY, 0x4004_b903);
        assert_eq!(PROCKILL_IOC_SEND_VALUE, 0x4018_b904);
    }
}
