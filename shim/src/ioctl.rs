//! The ioctl request numbers of the kill node.
//!
//! bindgen does not translate the function-like `_IOR`/`_IOW` macros, so the
//! numbers are computed here with `const fn`s mirroring the kernel's `_IOC`
//! encoding (`include/uapi/asm-generic/ioctl.h`, and the variants of the
//! architectures that differ), from the magic and the struct sizes of the
//! generated [`uapi`](mod@crate::uapi) bindings. A test compiles the header with a
//! C compiler and compares.
//!
//! ```
//! use prockill::ioctl::*;
//! # #[cfg(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "riscv64"))]
//! assert_eq!(PROCKILL_IOC_INFO, 0x8038_b901);
//! assert_eq!(ioc_nr(PROCKILL_IOC_SEND), 2);
//! assert_eq!(ioc_type(PROCKILL_IOC_SEND), 0xb9);
//! assert_eq!(ioc_size(PROCKILL_IOC_SET_POLICY), 4);
//! ```

use crate::uapi;

/// Whether this architecture uses the other ioctl layout (13 size bits,
/// `_IOC_NONE` 1, `_IOC_WRITE` 4): powerpc, mips and sparc, as
/// `arch/*/include/uapi/asm/ioctl.h` define it.
const OTHER_LAYOUT: bool = cfg!(any(
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "sparc",
    target_arch = "sparc64"
));

/// Bits of the request number field (`_IOC_NRBITS`).
pub const IOC_NRBITS: u32 = 8;
/// Bits of the type (magic) field (`_IOC_TYPEBITS`).
pub const IOC_TYPEBITS: u32 = 8;
/// Bits of the size field (`_IOC_SIZEBITS`: 14, or 13 on powerpc, mips, sparc).
pub const IOC_SIZEBITS: u32 = if OTHER_LAYOUT { 13 } else { 14 };
/// Shift of the number field (`_IOC_NRSHIFT`).
pub const IOC_NRSHIFT: u32 = 0;
/// Shift of the type field (`_IOC_TYPESHIFT`).
pub const IOC_TYPESHIFT: u32 = IOC_NRSHIFT + IOC_NRBITS;
/// Shift of the size field (`_IOC_SIZESHIFT`).
pub const IOC_SIZESHIFT: u32 = IOC_TYPESHIFT + IOC_TYPEBITS;
/// Shift of the direction field (`_IOC_DIRSHIFT`).
pub const IOC_DIRSHIFT: u32 = IOC_SIZESHIFT + IOC_SIZEBITS;
/// No data transferred (`_IOC_NONE`).
pub const IOC_NONE: u32 = if OTHER_LAYOUT { 1 } else { 0 };
/// Userspace writes, the kernel reads (`_IOC_WRITE`).
pub const IOC_WRITE: u32 = if OTHER_LAYOUT { 4 } else { 1 };
/// The kernel writes, userspace reads (`_IOC_READ`).
pub const IOC_READ: u32 = 2;

/// `_IOC(dir, type, nr, size)`.
///
/// Panics at compile time (in a const context) if `size` does not fit the
/// size field, as the kernel's `_IOC_TYPECHECK` would refuse it.
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: usize) -> u32 {
    assert!(size < (1 << IOC_SIZEBITS), "ioctl argument too large");
    assert!(ty < (1 << IOC_TYPEBITS) && nr < (1 << IOC_NRBITS));
    (dir << IOC_DIRSHIFT)
        | (ty << IOC_TYPESHIFT)
        | (nr << IOC_NRSHIFT)
        | ((size as u32) << IOC_SIZESHIFT)
}

/// `_IO(type, nr)`.
pub const fn io(ty: u32, nr: u32) -> u32 {
    ioc(IOC_NONE, ty, nr, 0)
}

/// `_IOR(type, nr, T)` with `size = size_of::<T>()`.
pub const fn ior(ty: u32, nr: u32, size: usize) -> u32 {
    ioc(IOC_READ, ty, nr, size)
}

/// `_IOW(type, nr, T)` with `size = size_of::<T>()`.
pub const fn iow(ty: u32, nr: u32, size: usize) -> u32 {
    ioc(IOC_WRITE, ty, nr, size)
}

/// `_IOWR(type, nr, T)` with `size = size_of::<T>()`.
pub const fn iowr(ty: u32, nr: u32, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, ty, nr, size)
}

/// `_IOC_NR(request)`.
pub const fn ioc_nr(request: u32) -> u32 {
    (request >> IOC_NRSHIFT) & ((1 << IOC_NRBITS) - 1)
}

/// `_IOC_TYPE(request)`.
pub const fn ioc_type(request: u32) -> u32 {
    (request >> IOC_TYPESHIFT) & ((1 << IOC_TYPEBITS) - 1)
}

/// `_IOC_SIZE(request)`.
pub const fn ioc_size(request: u32) -> u32 {
    (request >> IOC_SIZESHIFT) & ((1 << IOC_SIZEBITS) - 1)
}

/// `_IOC_DIR(request)`.
pub const fn ioc_dir(request: u32) -> u32 {
    request >> IOC_DIRSHIFT
}

/// `PROCKILL_IOC_INFO`: `_IOR(0xB9, 1, struct prockill_info)`.
pub const PROCKILL_IOC_INFO: u32 = ior(
    uapi::PROCKILL_IOC_MAGIC,
    1,
    core::mem::size_of::<uapi::prockill_info>(),
);

/// `PROCKILL_IOC_SEND`: `_IOW(0xB9, 2, struct prockill_send)`.
pub const PROCKILL_IOC_SEND: u32 = iow(
    uapi::PROCKILL_IOC_MAGIC,
    2,
    core::mem::size_of::<uapi::prockill_send>(),
);

/// `PROCKILL_IOC_SET_POLICY`: `_IOW(0xB9, 3, __u32)`.
pub const PROCKILL_IOC_SET_POLICY: u32 = iow(
    uapi::PROCKILL_IOC_MAGIC,
    3,
    core::mem::size_of::<uapi::__u32>(),
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips() {
        for (req, dir, nr, size) in [
            (PROCKILL_IOC_INFO, IOC_READ, 1, 56),
            (PROCKILL_IOC_SEND, IOC_WRITE, 2, 8),
            (PROCKILL_IOC_SET_POLICY, IOC_WRITE, 3, 4),
        ] {
            assert_eq!(ioc_dir(req), dir);
            assert_eq!(ioc_type(req), 0xb9);
            assert_eq!(ioc_nr(req), nr);
            assert_eq!(ioc_size(req), size);
        }
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    #[allow(clippy::unnecessary_cast)] // libc's ioctl type differs between libcs
    fn known_values() {
        // Worked by hand from asm-generic/ioctl.h.
        assert_eq!(PROCKILL_IOC_INFO, (2 << 30) | (56 << 16) | (0xb9 << 8) | 1);
        assert_eq!(PROCKILL_IOC_INFO, 0x8038_b901);
        assert_eq!(PROCKILL_IOC_SEND, 0x4008_b902);
        assert_eq!(PROCKILL_IOC_SET_POLICY, 0x4004_b903);
        // Cross-check the encoder with one the libc crate knows.
        assert_eq!(u64::from(ior(b'T' as u32, 0x30, 4)), libc::TIOCGPTN as u64);
        assert_eq!(
            u64::from(iow(b'T' as u32, 0x31, 4)),
            libc::TIOCSPTLCK as u64
        );
    }
}
