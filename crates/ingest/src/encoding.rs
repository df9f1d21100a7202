//! Text encodings of CSV exports: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK.

use std::borrow::Cow;

use serde::Serialize;

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncodingChoice {
    /// Detect per file.
    #[default]
    Auto,
    /// Treat as UTF-8; rows with invalid bytes are rejected.
    Utf8,
    /// Treat as GB18030 (a superset of GBK and GB2312).
    Gb18030,
}

impl std::str::FromStr for EncodingChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "auto" => Ok(EncodingChoice::Auto),
            "utf8" => Ok(EncodingChoice::Utf8),
            "gb18030" | "gbk" | "gb2312" | "cp936" => Ok(EncodingChoice::Gb18030),
            other => Err(format!(
                "unknown encoding `{other}` (expected auto, utf-8, gb18030 or gbk)"
            )),
        }
    }
}

/// The encoding a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 without BOM
    Utf8,
    /// UTF-8 with BOM
    Utf8Bom,
    /// UTF-16 (little or big endian) with BOM
    Utf16,
    /// GB18030 / GBK
    Gb18030,
}

/// The decoded text (as UTF-8 bytes, possibly with invalid sequences when the file is UTF-8 with
/// a few bad bytes) and the encoding it was read as. `lossy` is set when GB18030 decoding had to
/// replace malformed bytes with U+FFFD: rows holding it are rejected. UTF-8 text is the file's
/// own bytes, borrowed (past a BOM); only a transcoded file is copied.
pub struct Decoded<'a> {
    /// UTF-8 bytes.
    pub bytes: Cow<'a, [u8]>,
    /// What it was read as.
    pub encoding: Encoding,
    /// Whether U+FFFD in the text marks a decoding failure.
    pub lossy: bool,
}

/// Decodes a CSV file's bytes.
///
/// Detection: a BOM decides; otherwise a file that is valid UTF-8, or UTF-8 with a few bad
/// sequences among many good multi-byte characters, is UTF-8 (bad rows are rejected later);
/// anything else is GB18030.
pub fn decode(raw: &[u8], choice: EncodingChoice) -> Decoded<'_> {
    if let Some(rest) = raw.strip_prefix(b"\xEF\xBB\xBF") {
        return Decoded {
            bytes: Cow::Borrowed(rest),
            encoding: Encoding::Utf8Bom,
            lossy: false,
        };
    }
    if raw.starts_with(b"\xFF\xFE") || raw.starts_with(b"\xFE\xFF") {
        let enc = if raw[0] == 0xFF {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        let (text, _, had_errors) = enc.decode(raw);
        return Decoded {
            bytes: Cow::Owned(text.into_owned().into_bytes()),
            encoding: Encoding::Utf16,
            lossy: had_errors,
        };
    }
    let gb = |raw: &[u8]| {
        let (text, _, had_errors) = encoding_rs::GB18030.decode(raw);
        Decoded {
            bytes: Cow::Owned(text.into_owned().into_bytes()),
            encoding: Encoding::Gb18030,
            lossy: had_errors,
        }
    };
    match choice {
        EncodingChoice::Utf8 => Decoded {
            bytes: Cow::Borrowed(raw),
            encoding: Encoding::Utf8,
            lossy: false,
        },
        EncodingChoice::Gb18030 => gb(raw),
        EncodingChoice::Auto => {
            if std::str::from_utf8(raw).is_ok() || mostly_utf8(raw) {
                Decoded {
                    bytes: Cow::Borrowed(raw),
                    encoding: Encoding::Utf8,
                    lossy: false,
                }
            } else {
                gb(raw)
            }
        }
    }
}

/// UTF-8 with at most one bad sequence per ten good multi-byte characters.
fn mostly_utf8(raw: &[u8]) -> bool {
    let mut good = 0usize;
    let mut bad = 0usize;
    for chunk in raw.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        if !chunk.invalid().is_empty() {
            bad += 1;
        }
    }
    good > 0 && bad * 10 <= good
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_encoding() {
        let text = "name,区域\n张三,北京\n";
        let d = decode(text.as_bytes(), EncodingChoice::Auto);
        assert_eq!((d.encoding, &*d.bytes), (Encoding::Utf8, text.as_bytes()));

        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        let d = decode(&bom, EncodingChoice::Auto);
        assert_eq!(
            (d.encoding, &*d.bytes),
            (Encoding::Utf8Bom, text.as_bytes())
        );

        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let d = decode(&gbk, EncodingChoice::Auto);
        assert_eq!(
            (d.encoding, &*d.bytes, d.lossy),
            (Encoding::Gb18030, text.as_bytes(), false)
        );
    }

    #[test]
    fn parses_names() {
        assert_eq!("GBK".parse(), Ok(EncodingChoice::Gb18030));
        assert_eq!("utf-8".parse(), Ok(EncodingChoice::Utf8));
        assert!("latin1".parse::<EncodingChoice>().is_err());
    }
}
