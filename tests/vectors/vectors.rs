// SPDX-License-Identifier: GPL-2.0

//! The reader of `signals.txt`, shared (through `#[path]`) by the crate's
//! host test `shim/tests/vectors.rs` and the VM test `node/bad-writes`, so the
//! two can only disagree about the node, not about the file.

/// One case of the file.
pub struct Vector {
    /// 1-based line number in `signals.txt`.
    pub line: usize,
    /// The bytes of one write.
    pub input: Vec<u8>,
    /// The signal it means, or `None` for `EINVAL`.
    pub expected: Option<u32>,
}

/// Every case of `text` (the contents of `signals.txt`).
pub fn parse(text: &str) -> Result<Vec<Vector>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (input, expected) = line
            .rsplit_once('\t')
            .ok_or_else(|| format!("signals.txt:{}: no TAB", i + 1))?;
        let expected = match expected {
            "EINVAL" => None,
            n => Some(
                n.parse()
                    .map_err(|_| format!("signals.txt:{}: bad result {n:?}", i + 1))?,
            ),
        };
        let input = unescape(input).map_err(|e| format!("signals.txt:{}: {e}", i + 1))?;
        out.push(Vector {
            line: i + 1,
            input,
            expected,
        });
    }
    Ok(out)
}

/// Decodes the file's C-style escapes: `\n \t \r \v \f \0 \\ \xHH`.
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = *b.get(i + 1).ok_or("trailing backslash")?;
        i += 2;
        out.push(match c {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'v' => 0x0b,
            b'f' => 0x0c,
            b'0' => 0,
            b'\\' => b'\\',
            b'x' => {
                let h = s.get(i..i + 2).ok_or("short \\x")?;
                i += 2;
                u8::from_str_radix(h, 16).map_err(|e| format!("\\x{h}: {e}"))?
            }
            o => return Err(format!("unknown escape \\{}", o as char)),
        });
    }
    Ok(out)
}
